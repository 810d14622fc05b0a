import { describe, expect, it } from 'vitest';
import { isLastPage } from '../../src/cloudflare/page-loop.js';

describe('isLastPage', () => {
  it('trusts total_pages when Cloudflare sends it', () => {
    expect(isLastPage(1, 50, 50, { total_pages: 3 })).toBe(false);
    expect(isLastPage(2, 50, 50, { total_pages: 3 })).toBe(false);
    expect(isLastPage(3, 50, 20, { total_pages: 3 })).toBe(true);
    // A full page that is the last one by total_pages: no trailing empty page is fetched.
    expect(isLastPage(2, 50, 50, { total_pages: 2 })).toBe(true);
    // total_pages wins over a total_count that disagrees.
    expect(isLastPage(1, 50, 50, { total_pages: 2, total_count: 50 })).toBe(false);
  });

  it('falls back to total_count', () => {
    expect(isLastPage(1, 50, 50, { total_count: 120 })).toBe(false);
    expect(isLastPage(2, 50, 50, { total_count: 120 })).toBe(false);
    expect(isLastPage(3, 50, 20, { total_count: 120 })).toBe(true);
    // Exact multiple: the second full page is the last.
    expect(isLastPage(1, 50, 50, { total_count: 100 })).toBe(false);
    expect(isLastPage(2, 50, 50, { total_count: 100 })).toBe(true);
    // total_pages 0 (an empty listing) says nothing: total_count decides.
    expect(isLastPage(1, 50, 50, { total_pages: 0, total_count: 60 })).toBe(false);
  });

  it('without counts, a short page is the last and a full one is not', () => {
    expect(isLastPage(1, 50, 49, undefined)).toBe(true);
    expect(isLastPage(1, 50, 50, undefined)).toBe(false);
    expect(isLastPage(4, 50, 1, { page: 4, per_page: 50 })).toBe(true);
  });

  it('an empty page is always the last, whatever result_info claims', () => {
    expect(isLastPage(1, 50, 0, undefined)).toBe(true);
    expect(isLastPage(2, 50, 0, { total_pages: 9 })).toBe(true);
    expect(isLastPage(2, 50, 0, { total_count: 1000 })).toBe(true);
  });
});

describe('readResultInfo', () => {
  it('takes numeric strings, records odd fields as invalid instead of rejecting the page', async () => {
    const { readResultInfo } = await import('../../src/cloudflare/envelope.js');
    expect(readResultInfo({ count: '1', cursor: 'abc' })).toEqual({ count: 1, cursor: 'abc', invalid: [] });
    expect(readResultInfo({ page: 2, per_page: 'n/a', count: 'n/a', total_count: 60 })).toMatchObject({ page: 2, total_count: 60, invalid: ['per_page: "n/a"', 'count: "n/a"'] });
    expect(readResultInfo({ cursor: 7 })).toMatchObject({ invalid: ['cursor: 7'] });
    expect(readResultInfo(null)).toBeUndefined();
    expect(readResultInfo('weird')).toEqual({ invalid: ['result_info: "weird"'] });
  });
});

describe('listItems', () => {
  it('reads result: null as an empty list, and refuses a result that is no list', async () => {
    const { listItems } = await import('../../src/cloudflare/page-loop.js');
    const site = { stream: 's', path: '/user/subscriptions' };
    expect(listItems(site, null)).toEqual([]);
    expect(listItems(site, [{ id: 'a' }])).toEqual([{ id: 'a' }]);
    expect(() => listItems(site, { id: 'a' })).toThrow(/result is not a list \(got object\)/);
  });
});
