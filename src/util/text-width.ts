// How many terminal columns text takes, by string-width (East Asian width, emoji presentation,
// zero-width and combining characters, emoji sequences as one two-column character). safeText has
// already made control characters visible, so no escape sequence reaches here.
import stringWidth from 'string-width';

const graphemes = new Intl.Segmenter();

export function displayWidth(text: string): number {
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  return stringWidth(text);
}

/** The longest start of `text` that fits in `width` columns (never half a character, never part of one grapheme). */
export function sliceToWidth(text: string, width: number): string {
  let used = 0;
  let end = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width) break;
    used += w;
    end += segment.length;
  }
  return text.slice(0, end);
}
