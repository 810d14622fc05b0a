/** A mistake in how flarewatch was invoked or configured: shown as one line, exit code 2, no stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}
