// Pure escapers shared by the sinks. Every string that comes from Cloudflare (token names,
// member emails, facts) goes through one of these before it reaches a message.

export const ELLIPSIS = '…';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Cap `s` so that `s.length` (UTF-16 units, the strictest count any sink uses) is at most
 * `max`, ending with an ellipsis when cut. Cuts between grapheme clusters, so a surrogate
 * pair or an emoji sequence is never split in half.
 */
export function truncate(s: string, max: number, ellipsis = ELLIPSIS): string {
  if (s.length <= max) return s;
  if (max <= ellipsis.length) return ellipsis.slice(0, Math.max(0, max));
  const budget = max - ellipsis.length;
  let out = '';
  // Grapheme boundaries are local: segmenting a little past the cut gives the same answer fast.
  for (const { segment } of segmenter.segment(s.slice(0, budget + 64))) {
    if (out.length + segment.length > budget) break;
    out += segment;
  }
  return out + ellipsis;
}

/**
 * Escape `raw` with `escape` and cap the result at `max`, cutting the raw text (never an
 * escape sequence, so no half entity like `&am…` can appear).
 */
export function capEscaped(raw: string, max: number, escape: (s: string) => string): string {
  const whole = escape(raw);
  if (whole.length <= max) return whole;
  // The longest raw prefix whose escaped form fits: binary search on the raw length.
  let lo = 0;
  let hi = Math.min(raw.length, max);
  let best = '';
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const candidate = escape(truncate(raw, mid));
    if (candidate.length <= max) {
      best = candidate;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

/**
 * Slack's three control characters (api.slack.com/reference/surfaces/formatting#escaping).
 * With them escaped, `<!channel>`, `<!here>`, `<@U123>` and `<https://x|y>` are shown as
 * text and can neither ping nor link.
 */
export function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * An untrusted value inside Slack mrkdwn: escaped, on one line, and wrapped in inline code,
 * which turns off `*bold*`, `_italic_`, `~strike~` and URL auto-linking inside it (mrkdwn
 * has no backslash escape). A backtick in the value, which would close the code span, is
 * replaced by the look-alike U+02CB. Capped at `max` characters including the backticks.
 */
export function slackLiteral(s: string, max = 3000): string {
  const oneLine = s.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/`/g, 'ˋ');
  if (oneLine.trim() === '') return '_(empty)_';
  return '`' + capEscaped(oneLine, max - 2, escapeSlack) + '`';
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an HTML element body or a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * Backslash-escape CommonMark punctuation so an untrusted value shows as written in a
 * Markdown renderer (Teams Adaptive Card TextBlocks): no emphasis, links, headings, lists,
 * code or HTML. Line breaks become spaces so a value cannot start a block construct.
 */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/[\\`*_{}[\]()#+\-.!|~<>&]/g, '\\$&');
}

/**
 * Text that will reach a mail or HTTP header: CR, LF and every other control character
 * become one space, so a value can never start a new header line.
 */
export function stripHeaderBreaks(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ').replace(/ {2,}/g, ' ').trim();
}
