import { NotFoundError } from '../util/not-found.js';
import type { Context } from '../context.js';
import { findMemberships, findTokens, memberVersions, permissionGroupNames, resourceEvents, tokenVersions } from '../db/queries/history.js';
import { accountMemberVersions, apiTokenVersions } from '../db/schema/index.js';
import { describeChange, memberGrants, tokenGrants } from '../history/describe.js';
import { buildTimeline, type TimelineEntry, type VersionView } from '../history/timeline.js';
import { versionView } from '../history/versions-view.js';
import { isoOrEmpty, safeText } from './findings-format.js';
import { wrapLine } from '../util/table.js';
import { formatTimeline, timelineJson } from './history-format.js';

type Result = { output: string; exitCode: number };

const never = (d: unknown) => (d instanceof Date ? isoOrEmpty(d) : 'never');

function describeToken(v: VersionView, prev: VersionView | undefined, names: ReadonlyMap<string, string>): string[] {
  const f = v.fields;
  if (v.change === 'changed' || (v.change === 'restored' && prev)) {
    const changes = describeChange(v.changedFields, prev?.fields ?? {}, f, names, 'token');
    return v.change === 'restored' ? ['back after deletion', ...changes] : changes;
  }
  const ip = (f.ip_allow as string[] | null)?.length ? `from ${(f.ip_allow as string[]).join(', ')}` : 'from any IP';
  return [`status ${f.status ?? '?'}`, `expires ${never(f.expires_on)}`, ip, ...tokenGrants(f.policies, names)];
}

function describeMember(v: VersionView, prev: VersionView | undefined): string[] {
  const f = v.fields;
  if (v.change === 'changed' || (v.change === 'restored' && prev)) {
    const changes = describeChange(v.changedFields, prev?.fields ?? {}, f, undefined, 'member');
    return v.change === 'restored' ? ['back after deletion', ...changes] : changes;
  }
  const roles = (f.role_names as string[] | null)?.length ? (f.role_names as string[]).join(', ') : 'no roles';
  return [`status ${f.status ?? '?'}`, `2FA ${f.two_factor_enabled === true ? 'on' : f.two_factor_enabled === false ? 'off' : 'unknown'}`, `roles ${roles}`, ...memberGrants(f.policies)];
}

/** `flarewatch history token <id|name>`: every version of one token and the audit events about it, in one timeline. */
export async function historyTokenCommand(ctx: Pick<Context, 'db' | 'columns'>, ref: string, json: boolean): Promise<Result> {
  const found = await findTokens(ctx.db, ref);
  if (!found.length) throw new NotFoundError(`history token: no token with id or name "${safeText(ref)}"`);
  if (found.length > 1) {
    const list = found.map((t) => `  ${t.id}  ${t.ownerType}-owned${t.accountId ? ` (account ${t.accountId})` : ''}${t.deletedAt ? ' deleted' : ''}`);
    return { output: [`${found.length} tokens are named "${safeText(ref)}"; give the id:`, ...list].join('\n'), exitCode: 1 };
  }
  const t = found[0]!;
  const [rows, events, names] = await Promise.all([tokenVersions(ctx.db, t.id), resourceEvents(ctx.db, { ids: [t.id], typeLike: 'token' }), permissionGroupNames(ctx.db)]);
  const timeline = buildTimeline({
    versions: rows.map((r) => versionView(apiTokenVersions, r, t.id, t.accountId)),
    events,
    about: (e, id) => e.resourceId === id,
    describe: (v, prev) => describeToken(v, prev, names),
  });
  const owner = t.ownerType === 'account' ? `account-owned (account ${t.accountId})` : `user-owned (owner ${t.userId ?? 'unknown'})`;
  const now = t.deletedAt ? `deleted ${isoOrEmpty(t.deletedAt)}: ${t.deletedReason ?? ''}` : `live, status ${t.status ?? '?'}`;
  const subject = { type: 'token', id: t.id, name: t.name, owner_type: t.ownerType, account_id: t.accountId, user_id: t.userId, status: t.status, deleted_at: t.deletedAt };
  if (json) return { output: JSON.stringify({ subject, timeline: timelineJson(timeline) }, null, 2), exitCode: 0 };
  const head = [`token ${t.id} "${safeText(t.name)}", ${owner}`, `now: ${safeText(now)}`];
  return { output: [...head.map((l) => wrapLine(l, ctx.columns)), '', formatTimeline(timeline, false, ctx.columns)].join('\n'), exitCode: 0 };
}

/** `flarewatch history member <email>`: every membership of that email (any account), its versions and the audit events about it. */
export async function historyMemberCommand(ctx: Pick<Context, 'db' | 'columns'>, email: string, json: boolean): Promise<Result> {
  const memberships = await findMemberships(ctx.db, email);
  if (!memberships.length) throw new NotFoundError(`history member: no member with email "${safeText(email)}"`);
  const accountOf = new Map(memberships.map((m) => [m.id, m.accountId]));
  const [rows, events] = await Promise.all([
    memberVersions(ctx.db, memberships.map((m) => m.id)),
    resourceEvents(ctx.db, { ids: memberships.map((m) => m.id), typeLike: 'member', emails: memberships.map((m) => ({ accountId: m.accountId, email })) }),
  ]);
  const about = (e: { resourceId: string | null; accountId: string | null; subjectEmail: string | null }, id: string) =>
    e.resourceId === id || (e.accountId === accountOf.get(id) && e.subjectEmail?.toLowerCase() === email.toLowerCase());
  const timeline: TimelineEntry[] = buildTimeline({
    versions: rows.map((r) => versionView(accountMemberVersions, r, r.memberId, r.accountId)),
    events,
    about,
    describe: describeMember,
  });
  const subject = { type: 'member', email, memberships: memberships.map((m) => ({ member_id: m.id, account_id: m.accountId, account_name: m.accountName, deleted_at: m.deletedAt })) };
  if (json) return { output: JSON.stringify({ subject, timeline: timelineJson(timeline) }, null, 2), exitCode: 0 };
  const head = [
    `member ${safeText(email)}: ${memberships.length} membership(s)`,
    ...memberships.map((m) => `  ${m.accountId} ${safeText(m.accountName)}: member ${m.id}, ${m.deletedAt ? `deleted ${isoOrEmpty(m.deletedAt)} (${safeText(m.deletedReason)})` : 'live'}`),
  ];
  return { output: [...head.map((l) => wrapLine(l, ctx.columns)), '', formatTimeline(timeline, true, ctx.columns)].join('\n'), exitCode: 0 };
}
