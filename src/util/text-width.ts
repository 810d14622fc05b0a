// How many terminal columns text takes: wide East Asian characters and most emoji take two,
// combining marks, variation selectors and zero-width joiners none. Enough for names and emails
// from Cloudflare (safeText has already made control characters visible); no dependency for it.

const ZERO = /[\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u1ab0-\u1aff\u1dc0-\u1dff\u200b-\u200f\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f\u{e0100}-\u{e01ef}]/u;
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{1fa70}-\u{1faff}\u{20000}-\u{3fffd}]/u;

const charWidth = (c: string) => (ZERO.test(c) ? 0 : WIDE.test(c) ? 2 : 1);

export function displayWidth(text: string): number {
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  for (const c of text) width += charWidth(c);
  return width;
}

/** The longest start of `text` that fits in `width` columns (never half a character). */
export function sliceToWidth(text: string, width: number): string {
  let used = 0;
  let end = 0;
  for (const c of text) {
    const w = charWidth(c);
    if (used + w > width) break;
    used += w;
    end += c.length;
  }
  return text.slice(0, end);
}
