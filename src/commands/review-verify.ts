import { readFileSync } from 'node:fs';
import type { Evidence } from '../review/evidence.js';
import { verifyPack, WHAT_IT_PROVES } from '../review/verify.js';
import { UsageError } from '../util/usage-error.js';

const read = (file: string, what: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`review verify: cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
};

/** `flarewatch review verify <pack>`: offline, no database; exit 1 when any check fails. */
export function reviewVerifyCommand(file: string, o: { publicKey?: string; previous?: string }): { output: string; exitCode: number } {
  let previous: Evidence | undefined;
  if (o.previous) {
    try {
      previous = JSON.parse(read(o.previous, 'the earlier pack')) as Evidence;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`review verify: the earlier pack ${o.previous} is not JSON`);
    }
  }
  const report = verifyPack(read(file, 'the pack'), { publicKey: o.publicKey && read(o.publicKey, 'the public key'), previous });
  const lines = report.checks.map((c) => `${c.ok ? 'ok     ' : 'FAILED '} ${c.what}: ${c.detail}`);
  const verdict = report.ok ? `${file}: verified` : `${file}: NOT verified: do not rely on this pack`;
  return { output: [verdict, ...lines, '', ...WHAT_IT_PROVES].join('\n'), exitCode: report.ok ? 0 : 1 };
}
