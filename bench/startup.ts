// `flarewatch --version` and `--help` from source: what a newcomer waits for before the first
// answer. Each against `node -e 0` measured in the same run (the machine's own process start).
import { execFileSync } from 'node:child_process';
import { fmt, ROOT } from './lib.js';

const RUNS = 3;

/** The median wall time of `node <args>` over RUNS runs, in ms. */
function median(args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

export function startupBench(): void {
  const base = median(['-e', '0']);
  const version = median(['bin/flarewatch.mjs', '--version']);
  const help = median(['bin/flarewatch.mjs', '--help']);
  console.log(`\n## CLI start from source (median of ${RUNS})`);
  console.log(`node -e 0 (baseline)   ${fmt(base)} ms`);
  console.log(`--version              ${fmt(version)} ms, ${fmt(version / base, 1)}× the baseline (answered before the app loads)`);
  console.log(`--help                 ${fmt(help)} ms, ${fmt(help / base, 1)}× the baseline (loads every command; npm run build makes the installed command faster)`);
}
