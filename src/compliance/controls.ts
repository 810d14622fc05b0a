import { didYouMean } from '../util/did-you-mean.js';
import { UsageError } from '../util/usage-error.js';

// Control references: which requirement of which framework a rule (or an access review) gives
// evidence for. Written `<framework>:<control>`, e.g. `SOC2:CC6.1`, `ISO27001:A.5.15`, `PCI:8.2.6`.
// The titles below are short descriptions of our own, not the frameworks' text.

export const FRAMEWORKS = {
  SOC2: 'SOC 2 (Trust Services Criteria)',
  ISO27001: 'ISO/IEC 27001:2022 Annex A',
  PCI: 'PCI DSS v4.0',
} as const;

export const CONTROLS: Record<string, string> = {
  'SOC2:CC6.1': 'Logical access security: authentication and restriction of access to protected assets',
  'SOC2:CC6.2': 'Users and credentials registered, authorized, and removed when no longer needed',
  'SOC2:CC6.3': 'Access granted, changed and removed by role, with least privilege and periodic review',
  'SOC2:CC6.6': 'Access from outside the system boundary restricted',
  'SOC2:CC7.2': 'System components monitored for anomalies that indicate malicious acts',
  'ISO27001:A.5.15': 'Access control',
  'ISO27001:A.5.16': 'Identity management',
  'ISO27001:A.5.17': 'Authentication information',
  'ISO27001:A.5.18': 'Access rights: provisioned, reviewed, modified and removed',
  'ISO27001:A.8.2': 'Privileged access rights',
  'ISO27001:A.8.5': 'Secure authentication',
  'ISO27001:A.8.16': 'Monitoring activities',
  'PCI:7.2.1': 'An access control model covers all system components',
  'PCI:7.2.2': 'Access assigned by job function with least privilege',
  'PCI:7.2.4': 'User accounts and their access privileges reviewed at least every six months',
  'PCI:7.2.5': 'System and application accounts assigned least privilege',
  'PCI:7.2.5.1': 'Access of system and application accounts reviewed periodically',
  'PCI:8.2.4': 'Additions, deletions and modifications of user IDs and credentials authorized',
  'PCI:8.2.6': 'Inactive user accounts removed or disabled within 90 days',
  'PCI:8.3.4': 'Invalid authentication attempts limited',
  'PCI:8.4.2': 'Multi-factor authentication for all access into the cardholder data environment',
  'PCI:8.6.3': 'Credentials of system and application accounts protected and changed periodically',
  'PCI:10.4.1': 'Audit logs reviewed at least once daily',
};

/** What an access review itself is evidence for (the periodic review of who has what). */
export const REVIEW_CONTROLS = ['SOC2:CC6.2', 'SOC2:CC6.3', 'ISO27001:A.5.18', 'ISO27001:A.8.2', 'PCI:7.2.4', 'PCI:7.2.5.1'];

const REF = /^([A-Za-z][A-Za-z0-9_-]*):([A-Za-z0-9][A-Za-z0-9._-]*)$/;

/** `SOC 2 CC6.1`, `ISO/IEC 27001:2022 A.5.15`, `PCI DSS v4.0 8.2.6`; another framework as written. */
export function controlLabel(ref: string): string {
  const m = REF.exec(ref);
  if (!m) return ref;
  const short = { SOC2: 'SOC 2', ISO27001: 'ISO/IEC 27001:2022', PCI: 'PCI DSS v4.0' }[m[1]! as keyof typeof FRAMEWORKS];
  return short ? `${short} ${m[2]}` : `${m[1]} ${m[2]}`;
}

/**
 * A control reference as written in a custom rule's header: `FRAMEWORK:ID` (any framework: an
 * organisation may name its own), or a bare id that names exactly one known control (`CC6.1`).
 * Known frameworks are written in capitals whatever the case given.
 */
export function parseControl(text: string): string {
  const t = text.trim();
  const m = REF.exec(t);
  if (m) {
    const fw = m[1]!.toUpperCase();
    return fw in FRAMEWORKS ? `${fw}:${m[2]!.toUpperCase()}` : t;
  }
  const bare = Object.keys(CONTROLS).filter((k) => k.split(':')[1]!.toLowerCase() === t.toLowerCase());
  if (bare.length === 1) return bare[0]!;
  throw new Error(`bad control "${t}": write FRAMEWORK:ID, e.g. SOC2:CC6.1, ISO27001:A.5.15, PCI:8.2.6`);
}

/**
 * Whether a reference falls under what `--control` asks for: the same control or one below it
 * (`CC6` covers `CC6.1`, `8.2` covers `8.2.6`), with or without the framework (`SOC2:CC6.1`).
 */
export function controlMatches(ref: string, wanted: string): boolean {
  const [fw, id] = ref.toLowerCase().split(/:(.*)/s) as [string, string];
  const w = wanted.trim().toLowerCase();
  const [wf, wid] = w.includes(':') ? (w.split(/:(.*)/s) as [string, string]) : [undefined, w];
  if (wf !== undefined && wf !== fw) return false;
  return id === wid || id.startsWith(`${wid}.`);
}

/** For `findings --control`: the rules that support the control; a control no rule supports is refused. */
export function rulesForControl(wanted: string, rules: Array<{ id: string; controls?: string[] }>): string[] {
  const ids = rules.filter((r) => (r.controls ?? []).some((c) => controlMatches(c, wanted))).map((r) => r.id);
  if (ids.length) return ids;
  const known = [...new Set(rules.flatMap((r) => r.controls ?? []))].sort();
  const bare = known.map((k) => k.split(':')[1]!);
  throw new UsageError(`findings --control: no rule supports "${wanted}"${didYouMean(wanted, [...known, ...bare])}; npx flarewatch rules lists each rule's controls`);
}
