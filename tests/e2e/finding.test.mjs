// Issue 19, items 11, 17 and 14 in the browser: finding a case (by name,
// by phone in any form, with filters, past the first page), the polish of
// the case page and the police card, and the supervisor's CSV export.
// Run by tests/e2e/run.sh after console.test.mjs, against the same server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, launch, rolePage, login, shot, unlabeled, apiLogin, apiPost,
} from './harness.mjs';

const YULONG = '450321101201'; // 遇龙村, 白沙镇, 阳朔县
const XIONGCUN = '450323101201'; // 熊村, 大圩镇, 灵川县
const MARK = `查找批次${Date.now() % 100000}`;
const PHONE = '13877001234';

let browser;
const problems = [];
const made = {};

before(async () => {
  browser = await launch();
  const op = await apiLogin('operator');
  // 27 cases sharing a word of their summary: more than one page of 25.
  for (let i = 0; i < 27; i += 1) {
    await apiPost(op, '/cases', { category: 'marriage_family', region_code: YULONG, summary: `${MARK} 第${i + 1}件`, subject: {} });
  }
  made.named = await apiPost(op, '/cases', {
    category: 'safety_threat', region_code: XIONGCUN, summary: '前夫扬言报复', subject: { name: '覃美玲', phone: PHONE },
  });
  made.county = await apiPost(op, '/cases', {
    category: 'domestic_violence', region_code: YULONG, summary: '丈夫酒后打人', subject: { name: '韦小红', phone: '13877005678' },
  });
});

after(async () => {
  if (browser) await browser.close();
  assert.deepEqual(problems, [], 'no CSP violations or page errors');
});

const rows = (page) => page.$$eval('#find-results tbody tr[data-case-id]', (trs) => trs.map((tr) => ({
  number: tr.dataset.number, text: tr.textContent,
})));

/** From the top bar, as a user gets there (on a phone the bar may fold). */
async function openCases(page) {
  await page.waitForSelector('#logout');
  const link = page.locator('#topbar nav a[href="#/cases"]');
  if (await link.isVisible()) await link.click();
  else await page.goto(`${BASE}/#/cases`);
  await page.waitForSelector('#find-form');
}

async function search(page, fill) {
  await fill();
  const before = await page.$eval('#find-results', (el) => el.dataset.loaded || '0');
  await page.click('#find-run');
  await page.waitForFunction((b) => (document.getElementById('find-results').dataset.loaded || '0') !== b, before);
}

test('the hotline finds a case by name, by phone in any form, by filters, and pages past 25', async () => {
  const page = await rolePage(browser, 'operator', problems);
  await login(page, 'operator');
  await openCases(page);
  assert.deepEqual(await unlabeled(page), [], 'every filter is labelled');

  // By name.
  await search(page, () => page.fill('#find-q', '美玲'));
  let got = await rows(page);
  assert.deepEqual(got.map((r) => r.number), [made.named.number], 'the name finds her case');
  // By phone, written as people say it and as the exchange sends it.
  for (const phone of ['138 7700 1234', '+86 138-7700-1234', PHONE]) {
    await search(page, () => page.fill('#find-q', phone));
    got = await rows(page);
    assert.deepEqual(got.map((r) => r.number), [made.named.number], `phone ${phone}`);
  }
  await shot(page, 'find-by-phone');

  // Filters: risk high, and the place by type-ahead (灵川县 and below).
  await page.fill('#find-q', '');
  await page.selectOption('#find-risk', 'high');
  await page.fill('#find-place', '灵川');
  await page.waitForSelector('#find-place-results li[data-code="450323000000"]');
  await page.click('#find-place-results li[data-code="450323000000"]');
  await page.waitForFunction(() => /灵川/.test(document.getElementById('find-place-chosen').textContent));
  await search(page, async () => {});
  got = await rows(page);
  assert.ok(got.some((r) => r.number === made.named.number), 'her case is in 灵川县 at high risk');
  assert.ok(got.every((r) => r.text.includes('高危')), 'only high-risk cases are listed');
  assert.ok(!got.some((r) => r.text.includes(MARK)), 'no case from 阳朔县');
  assert.match(page.url(), /risk=high/, 'the filters are kept in the address');
  await page.click('#find-reset');
  await page.waitForFunction(() => !document.getElementById('find-risk').value);

  // More than one page: 25 rows, then "load more" with the same search.
  await search(page, () => page.fill('#find-q', MARK));
  got = await rows(page);
  assert.equal(got.length, 25, 'the first page holds 25');
  assert.match(await page.textContent('#find-count'), /还有更多/);
  assert.ok(await page.isVisible('#find-more'), 'a "load more" button at the bottom');
  await page.click('#find-more');
  await page.waitForFunction(() => document.querySelectorAll('#find-results tbody tr[data-case-id]').length === 27);
  got = await rows(page);
  assert.ok(got.every((r) => r.text.includes(MARK)), 'page 2 keeps the search');
  assert.equal(new Set(got.map((r) => r.number)).size, 27, 'no case twice');
  assert.ok(await page.isHidden('#find-more'), 'nothing more to load');
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.closest('tr') && document.activeElement.closest('tr').dataset.number), got[25].number,
    'focus moves to the first case of the new page');
  await shot(page, 'find-page-2');

  // Back from a case, the search is still there.
  await page.click(`#find-results a.case-link >> nth=0`);
  await page.waitForSelector('#main h1');
  await page.goBack();
  await page.waitForSelector('#find-form');
  assert.equal(await page.inputValue('#find-q'), MARK);
  await page.context().close();
});

test('a supervisor, who sees numbers masked, is told phone search is not for her role', async () => {
  const page = await rolePage(browser, 'supervisor', problems, { width: 390, height: 844 });
  await login(page, 'supervisor');
  await openCases(page);
  assert.match(await page.textContent('#find-form'), /按电话号码查找仅限热线和承办单位/);
  await search(page, () => page.fill('#find-q', '138 7700 1234'));
  assert.match(await page.textContent('#find-error'), /不能按电话号码查找/);
  await search(page, () => page.fill('#find-q', '韦小红'));
  assert.deepEqual((await rows(page)).map((r) => r.number), [made.county.number], 'a name finds a case of her county');
  await search(page, () => page.fill('#find-q', '覃美玲'));
  assert.deepEqual(await rows(page), [], 'not one of another county');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling on a phone (${width}px)`);
  await shot(page, 'find-supervisor-phone');
  await page.context().close();
});
