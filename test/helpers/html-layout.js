// Run inside a page (page.evaluate of this file's text; plain JS, as the page's types are not the
// test's): where each word of each table cell lies once laid out. See review-html-layout.test.ts.
(() => {
  const header = (td) => {
    const table = td.closest('table');
    const th = table?.querySelectorAll('thead th')[td.cellIndex];
    return `${table?.id ?? ''}/${th?.textContent ?? ''}`;
  };
  const lines = (r) => new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top))).size;
  // Words (not ids: class "id" may break inside) whose letters lie on more than one line.
  const broken = [];
  for (const td of document.querySelectorAll('td, th')) {
    const walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (n.parentElement?.closest('.id')) continue;
      for (const m of n.data.matchAll(/\S+/g)) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        if (lines(r) > 1) broken.push(`${header(td)}: ${m[0]}`);
      }
    }
  }
  // Status, 2FA and decision cells whose text takes more than one line.
  const multiLine = [];
  for (const td of document.querySelectorAll('#members td, #tokens td')) {
    const h = header(td);
    if (!/\/(Status|Decision|2FA)$/.test(h)) continue;
    const r = document.createRange();
    r.selectNodeContents(td);
    if (lines(r) !== 1) multiLine.push(`${h}: ${td.textContent}`);
  }
  const width = document.documentElement.clientWidth;
  return {
    broken,
    multiLine,
    snake: [...new Set(document.body.innerText.match(/\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g) ?? [])],
    pageOverflow: document.documentElement.scrollWidth - width,
    tablesOverflow: [...document.querySelectorAll('table')].filter((t) => t.getBoundingClientRect().right > width + 0.5).map((t) => t.id),
    memberRows: document.querySelectorAll('#members tbody tr').length,
    // What makes a printed table readable on each page: its header repeated, no row cut in two.
    theadDisplay: getComputedStyle(document.querySelector('#members thead')).display,
    rowBreakInside: getComputedStyle(document.querySelector('#members tbody tr')).breakInside,
  };
})()
