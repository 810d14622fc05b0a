import { describe, expect, it } from 'vitest';
import {
  capEscaped, escapeHtml, escapeMarkdown, escapeSlack, slackLiteral, stripHeaderBreaks, truncate,
} from '../../src/alerts/escape.js';

const NO_PARTIAL_ENTITY = /&(?!amp;|lt;|gt;|quot;|#39;)/;

describe('escapeSlack', () => {
  it.each([
    ['<!channel>', '&lt;!channel&gt;'],
    ['<!here|x>', '&lt;!here|x&gt;'],
    ['<@U123>', '&lt;@U123&gt;'],
    ['<#C123|general>', '&lt;#C123|general&gt;'],
    ['<https://evil|click>', '&lt;https://evil|click&gt;'],
    ['<!subteam^S1|@admins>', '&lt;!subteam^S1|@admins&gt;'],
    ['a & b', 'a &amp; b'],
    // Pre-escaped text from an attacker stays literal instead of turning into a bracket.
    ['&lt;!channel&gt;', '&amp;lt;!channel&amp;gt;'],
  ])('makes %j inert', (input, out) => {
    expect(escapeSlack(input)).toBe(out);
  });
});

describe('slackLiteral', () => {
  it('puts formatting characters inside inline code, where Slack does not apply them', () => {
    expect(slackLiteral('*bold* _x_ ~y~ `code`')).toBe('`*bold* _x_ ~y~ ˋcodeˋ`');
  });
  it('escapes mentions and links inside the code span too', () => {
    expect(slackLiteral('<!channel> <@U123> <https://evil|click>')).toBe('`&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt;`');
  });
  it('keeps a value on one line, so it cannot start a quote or a list', () => {
    expect(slackLiteral('name\r\n> quoted\n• item')).toBe('`name &gt; quoted • item`');
  });
  it('shows an empty value as such', () => {
    expect(slackLiteral('  ')).toBe('_(empty)_');
  });
  it('caps at the limit including the backticks, with an ellipsis', () => {
    const out = slackLiteral('<'.repeat(10_000), 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out).toMatch(/^`(&lt;)+…`$/);
  });
});

describe('escapeHtml', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['"><img src=x onerror=alert(1)>', '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'],
    ["it's & <b>", 'it&#39;s &amp; &lt;b&gt;'],
    ['名前 🔑 Ünïcødé', '名前 🔑 Ünïcødé'],
  ])('escapes %j', (input, out) => {
    expect(escapeHtml(input)).toBe(out);
  });
});

describe('escapeMarkdown', () => {
  it('backslash-escapes every construct a Markdown renderer would act on', () => {
    expect(escapeMarkdown('*bold* _x_ ~y~ `code`')).toBe('\\*bold\\* \\_x\\_ \\~y\\~ \\`code\\`');
    expect(escapeMarkdown('[click](https://evil.example)')).toBe('\\[click\\]\\(https://evil\\.example\\)');
    expect(escapeMarkdown('<script>alert(1)</script>')).toBe('\\<script\\>alert\\(1\\)\\</script\\>');
    expect(escapeMarkdown('# heading\n- item\r\n1. x')).toBe('\\# heading \\- item 1\\. x');
    expect(escapeMarkdown('back\\slash')).toBe('back\\\\slash');
  });
});

describe('truncate', () => {
  it('leaves short strings alone', () => {
    expect(truncate('abc', 3)).toBe('abc');
  });
  it('cuts to the limit with an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('x'.repeat(10_000), 150)).toHaveLength(150);
  });
  it('never splits a surrogate pair or an emoji sequence', () => {
    const family = '👩‍👩‍👧‍👦'; // 11 UTF-16 units, one grapheme
    const out = truncate(family.repeat(10), 30);
    expect(out).toBe(family.repeat(2) + '…');
    expect(truncate('🔑🔑🔑', 4)).toBe('🔑…');
    expect(truncate('é'.normalize('NFD').repeat(5), 5)).toBe('é'.normalize('NFD').repeat(2) + '…');
  });
});

describe('capEscaped', () => {
  it('cuts the raw text, never an entity', () => {
    const out = capEscaped('&'.repeat(100), 12, escapeHtml);
    expect(out).toBe('&amp;&amp;…');
    for (let max = 1; max < 40; max++) {
      const s = capEscaped('<a>&"\''.repeat(20), max, escapeHtml);
      expect(s.length).toBeLessThanOrEqual(max);
      expect(s).not.toMatch(NO_PARTIAL_ENTITY);
    }
  });
});

describe('stripHeaderBreaks', () => {
  it('turns CR, LF and other controls into one space so no header can be injected', () => {
    expect(stripHeaderBreaks('token\r\nBcc: victim@example.com')).toBe('token Bcc: victim@example.com');
    expect(stripHeaderBreaks('a\u0000b\tc\u2028d\u0085e')).toBe('a b c d e');
    expect(stripHeaderBreaks('Ünïcødé 🔑')).toBe('Ünïcødé 🔑');
  });
});
