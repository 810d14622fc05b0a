import { closest, distance } from 'fastest-levenshtein';

/** The known word closest to `word`, when it is close enough to be a likely typo. */
export function closestMatch(word: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const lower = word.toLowerCase();
  const exactCase = known.find((k) => k.toLowerCase() === lower);
  if (exactCase) return exactCase;
  const best = closest(word, [...known]);
  // A third of the word (at least 2 edits) keeps "databse" → "database" but not "foo" → "log".
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** ` (did you mean "x"?)`, or nothing. */
export function didYouMean(word: string, known: readonly string[]): string {
  const match = closestMatch(word, known);
  return match ? ` (did you mean "${match}"?)` : '';
}
