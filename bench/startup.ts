// `flarewatch --version` and `--help` from source: what a newcomer waits for before the first
// answer. Each against `node -e 0` measured in the same run (the machine's own process start).
// Then the same from a build (`npm run build`), as the installed command runs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
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

function line(label: string, ms: number, base: number, figure: string, note = ''): void {
  console.log(`${label.padEnd(34)} ${fmt(ms).padStart(6)} ms, ${fmt(ms / base, 1)}× the baseline${note}`);
  console.log(`figure ${figure}: ${fmt(ms / base, 1)}`);
}

/** The compiled CLI in a folder of its own inside the repository (so node_modules resolves), removed after. */
function builtCli<T>(use: (cli: string) => T): T {
  const out = mkdtempSync(join(ROOT, '.bench-build-'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out], { cwd: ROOT, stdio: 'inherit' });
    return use(join(out, 'src/cli.js'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function startupBench(): void {
  const base = median(['-e', '0']);
  console.log(`\n## CLI start from source (median of ${RUNS})`);
  console.log(`${'node -e 0 (baseline)'.padEnd(34)} ${fmt(base).padStart(6)} ms`);
  line('--version', median(['bin/flarewatch.mjs', '--version']), base, 'startup_version_vs_node', ' (answered before the app loads)');
  line('--help', median(['bin/flarewatch.mjs', '--help']), base, 'startup_help_vs_node', ' (commands load in their action)');
  line('findings --help', median(['bin/flarewatch.mjs', 'findings', '--help']), base, 'startup_findings_help_vs_node');
  line('fix plan --help', median(['bin/flarewatch.mjs', 'fix', 'plan', '--help']), base, 'startup_fix_plan_help_vs_node');
  // What loading a command costs, for comparison: `rules` reads the configuration and every rule (no database).
  line('rules (loads a command)', median(['bin/flarewatch.mjs', 'rules']), base, 'startup_rules_vs_node');
  console.log(`\n## CLI start from a build (npm run build; node dist/src/cli.js), median of ${RUNS}`);
  builtCli((cli) => {
    line('--help', median([cli, '--help']), base, 'startup_built_help_vs_node');
    line('rules (loads a command)', median([cli, 'rules']), base, 'startup_built_rules_vs_node');
  });
}
