/**
 * An expected failure (no Redis, the database does not answer, a port in use): shown as one
 * line that says what to do, exit code 1, the stack only at LOG_LEVEL=debug.
 */
export class FatalError extends Error {
  override name = 'FatalError';
}
