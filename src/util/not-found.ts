/**
 * What a command was asked about does not exist (a finding id, a review, a review item, a token,
 * a member): one line on stderr, exit code 4 in every command, so a script can tell "no such
 * thing" from a failure (1) and a usage mistake (2).
 */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export const EXIT_NOT_FOUND = 4;
