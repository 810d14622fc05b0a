import { describe, expect, it } from 'vitest';
import { fitWidths, formatTable, truncate, wrapCell, wrapLine } from '../../src/util/table.js';
import { displayWidth, sliceToWidth } from '../../src/util/text-width.js';

const widest = (text: string) => Math.max(...text.split('\n').map(displayWidth));
const header = ['id', 'rule', 'reason'];
const rows = [['1', 'token-no-expiry', 'a long reason that goes on and on until the end'], ['22', 'member-no-2fa', 'short']];

describe('formatTable', () => {
  it('without a width: every cell in full, as before', () => {
    expect(formatTable(header, rows)).toBe([
      'id  rule             reason',
      '--  ---------------  -----------------------------------------------',
      '1   token-no-expiry  a long reason that goes on and on until the end',
      '22  member-no-2fa    short',
    ].join('\n'));
  });

  it('fitted: the free-text column gives way first and ends with …; ids and rule ids stay whole', () => {
    const text = formatTable(header, rows, { width: 40, flex: ['reason'] });
    expect(widest(text)).toBeLessThanOrEqual(40);
    expect(text).toContain('token-no-expiry');
    expect(text.split('\n')[2]).toMatch(/a long reason that…$/);
  });

  it('narrower than the fixed columns: they give way too, to their minimum', () => {
    const text = formatTable(header, rows, { width: 30, flex: ['reason'] });
    expect(widest(text)).toBeLessThanOrEqual(30);
  });

  it('wrapped: nothing is cut, continuation lines leave the other columns blank', () => {
    const text = formatTable(header, rows, { width: 40, wrap: true, flex: ['reason'] });
    expect(widest(text)).toBeLessThanOrEqual(40);
    expect(text).not.toContain('…');
    expect(text.replace(/\s+/g, ' ')).toContain('a long reason that goes on and on until the end'.split(' ').slice(0, 3).join(' '));
    const words = (s: string) => s.split(/\s+/).filter((w) => !/^-+$/.test(w)).sort();
    expect(words(text)).toEqual(words(formatTable(header, rows)));
  });

  it('counts wide characters as two columns and never splits one', () => {
    expect(displayWidth('東京 ok')).toBe(7);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(sliceToWidth('東京都', 5)).toBe('東京');
    expect(truncate('東京都庁', 5)).toBe('東京…');
    const text = formatTable(['name', 'n'], [['東京都庁の管理者トークン', '1']], { width: 12 });
    expect(widest(text)).toBeLessThanOrEqual(12);
  });
});

describe('fitWidths, wrapCell, wrapLine', () => {
  it('takes from the widest column first, never below a minimum', () => {
    expect(fitWidths([10, 40, 5], [8, 8, 5], 40)).toEqual([10, 21, 5]);
    expect(fitWidths([10, 10], [8, 8], 10)).toEqual([8, 8]);
  });

  it('breaks at spaces where it can, else inside the word', () => {
    expect(wrapCell('one two three', 7)).toEqual(['one two', 'three']);
    expect(wrapCell('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });

  it('wraps a line of prose with its indent plus two, and leaves short ones alone', () => {
    expect(wrapLine('  why: one two three four five', 16)).toBe('  why: one two\n    three four\n    five');
    expect(wrapLine('short', 16)).toBe('short');
    expect(wrapLine('x'.repeat(50), undefined)).toBe('x'.repeat(50));
  });
});
