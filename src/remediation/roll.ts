import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import type { RollDestination } from '../config/remediation.js';

/**
 * Hands a rolled token's new secret to the destination the operator configured: a file written
 * with mode 0600, or a command's standard input. The secret is never printed, logged or stored
 * by flarewatch; a destination that fails is an error naming the destination, never the secret.
 */
export async function deliverSecret(dest: RollDestination, secret: string): Promise<void> {
  if ('file' in dest) {
    await writeFile(dest.file, `${secret}\n`, { mode: 0o600 });
    await chmod(dest.file, 0o600);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn(dest.command, { shell: true, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', (err) => reject(new Error(`roll destination command failed to start: ${err.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`roll destination command exited with ${code}`))));
    child.stdin.end(`${secret}\n`);
  });
}
