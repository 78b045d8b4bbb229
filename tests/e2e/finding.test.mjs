// Issue 19, items 11, 17 and 14 in the browser: finding a case (by name,
// by phone in any form, with filters, past the first page), the polish
// (the audited reveal says so, punctuation per language, no doubled
// "已超时", where to go from intake to the case page and the police card),
// and the supervisor's CSV export.
// Run by tests/e2e/run.sh after console.test.mjs, against the same server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  BASE, launch, rolePage, login, shot, unlabeled, apiLogin, apiPost, apiGet,
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

const FULL = /[，。：；（）！？、]/;
const HALF_BY_CJK = /[\u3400-\u9fff]\s?[,;:?!()]|[,;:?!(]\s?[\u3400-\u9fff]|\)[\u3400-\u9fff]/;

test('polish: the reveal says it is recorded, punctuation follows the language, "已超时" once, where to go reaches the police', async () => {
  // Every dictionary: no full-width punctuation in English, no half-width
  // beside Chinese characters in Chinese.
  const page = await rolePage(browser, 'operator-polish', problems);
  await login(page, 'operator');
  await page.waitForSelector('#intake-form');
  const dicts = await page.evaluate(async () => {
    const out = {};
    for (const f of ['zh-CN', 'console.zh-CN', 'hotline.zh-CN', 'ledger.zh-CN', 'finding.zh-CN', 'en', 'console.en', 'hotline.en', 'ledger.en', 'finding.en']) {
      out[f] = (await import(`/i18n/${f}.js`)).default;
    }
    return out;
  });
  for (const [file, dict] of Object.entries(dicts)) {
    for (const [key, text] of Object.entries(dict)) {
      if (file.endsWith('en')) assert.ok(!FULL.test(text.replace('【督办】', '')), `${file} ${key}: ${text}`);
      else assert.ok(!HALF_BY_CJK.test(text), `${file} ${key}: ${text}`);
    }
  }

  // Intake takes where to go.
  const note = '遇龙桥往东第三家，门口有棵桂花树';
  const summary = `前夫扬言报复 ${MARK}`;
  await page.fill('#caller-phone', '13877009999');
  await page.press('#caller-phone', 'Enter');
  await page.selectOption('#intake-category', 'safety_threat');
  await page.fill('#region-search', '遇龙');
  await page.waitForSelector(`#region-results li[data-code="${YULONG}"]`);
  await page.click(`#region-results li[data-code="${YULONG}"]`);
  await page.waitForFunction((code) => document.querySelector('.region-chosen').textContent.includes(code), YULONG);
  await page.fill('#intake-summary', summary);
  assert.match(await page.textContent('label[for=intake-place-note]'), /具体位置或地标/);
  await page.fill('#intake-place-note', note);
  await page.fill('input[name=subject_name]', '蓝秀珍');
  await page.check('input[name=same_phone]');
  assert.deepEqual(await unlabeled(page), [], 'every intake control has a label');
  await page.click('#intake-submit');
  const op = await apiLogin('operator');
  let kase = null;
  for (let i = 0; i < 50 && !kase; i += 1) {
    kase = (await apiGet(op, `/cases?q=${encodeURIComponent(MARK)}&category=safety_threat`)).items[0];
    if (!kase) await page.waitForTimeout(200);
  }
  assert.ok(kase, 'the case was filed');
  assert.equal(kase.place_note, note, 'filed with where to go');

  // The case page: where to go, and a reveal button that says what it does.
  await page.goto(`${BASE}/#/case/${kase.id}`);
  await page.waitForSelector('#case-place-note');
  assert.equal(await page.textContent('#case-place-note'), note);
  assert.equal((await page.textContent('#reveal-btn')).trim(), '显示完整号码（将记录查看）');
  assert.equal(await page.getAttribute('#reveal-btn', 'aria-label'), null, 'its name is what it says');
  // A deadline that has passed says "已超时" once, wherever it is shown.
  const overdue = await page.evaluate(async () => {
    const { countdown } = await import('/js/util.js');
    return countdown(new Date(Date.now() - 65000).toISOString()).textContent;
  });
  assert.equal(overdue.split('已超时').length - 1, 1, overdue);
  const doubled = await page.$$eval('#main dd, #main li, #main tr, #main .clock', (els) => els
    .map((el) => el.textContent).filter((x) => x.split('已超时').length > 2));
  assert.deepEqual(doubled, [], 'no "已超时 … · 已超时"');
  await shot(page, 'polish-case-page');

  // In English: half-width punctuation around labels, no full-width.
  await page.click('#lang-switch');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await page.waitForSelector('#reveal-btn');
  // The page re-renders in the new language: wait for its priority badge.
  await page.waitForFunction(() => [...document.querySelectorAll('#main .badge')].some((el) => /^Priority: /.test(el.textContent)));
  assert.equal((await page.textContent('#reveal-btn')).trim(), 'Show full numbers (the view is recorded)');
  const english = await page.$$eval('#main h1, #main h2, #main h3, #main dt, #main label, #main legend, #main button, #main .badge, #main .countdown',
    (els) => els.map((el) => el.textContent));
  const fullWidth = english.filter((x) => FULL.test(x));
  assert.deepEqual(fullWidth, [], 'no full-width punctuation in English labels');
  assert.ok(english.some((x) => /^Priority: /.test(x)), 'the priority badge reads "Priority: …"');
  await page.click('#lang-switch');
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  // Back in Chinese once the page has re-rendered (it may take a moment
  // after the language attribute changes).
  await page.waitForFunction(() => [...document.querySelectorAll('#main .badge')].some((el) => /^优先级：/.test(el.textContent)))
    .catch(() => {});
  assert.ok((await page.$$eval('#main .badge', (els) => els.map((el) => el.textContent))).some((x) => /^优先级：/.test(x)),
    'and "优先级：…" in Chinese');
  await page.context().close();

  // The police card says where to go.
  const police = await rolePage(browser, 'police-polish', problems, { width: 390, height: 844 });
  await login(police, 'police');
  const card = police.locator(`.esc-card:has(a[href="#/case/${kase.id}"])`);
  await card.waitFor();
  await police.waitForFunction((n) => [...document.querySelectorAll('.esc-card .place-note')].some((el) => el.textContent === n), note);
  await card.scrollIntoViewIfNeeded();
  await shot(police, 'polish-police-card-where-to-go');
  await police.context().close();
});

test('the supervisor downloads the CSV export: Chinese headers and names, Beijing time, one row per case', async () => {
  const page = await rolePage(browser, 'supervisor-csv', problems);
  await login(page, 'supervisor');
  await page.waitForSelector('#csv-link[href*="cases.csv"]');
  const href = await page.getAttribute('#csv-link', 'href');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv-link')]);
  const text = fs.readFileSync(await download.path(), 'utf8');
  assert.equal(text.charCodeAt(0), 0xfeff, 'a byte-order mark, so Excel reads UTF-8');
  const lines = text.slice(1).split('\r\n').filter(Boolean);
  // Every value is quoted (formulas neutralised); the header is not.
  const cells = (line) => (line.startsWith('"')
    ? [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1].replace(/""/g, '"'))
    : line.split(','));
  const head = cells(lines[0]);
  assert.deepEqual(head.slice(0, 6), ['案件编号', '受理时间（北京时间）', '类别', '状态', '优先级', '风险等级'], 'Chinese headers');
  const rows = lines.slice(1).map(cells);
  // One row per case: as many rows as the summary of the same period counts, no number twice.
  const token = await apiLogin('supervisor');
  const summary = await apiGet(token, `/reports/summary${href.slice(href.indexOf('?'))}`);
  assert.equal(rows.length, summary.total, 'one row per case of the period');
  assert.equal(new Set(rows.map((r) => r[0])).size, rows.length, 'no case twice');
  // Her case, in Chinese, at Beijing time (UTC+8).
  const mine = rows.find((r) => r[0] === made.county.number);
  assert.ok(mine, 'a case of her county is in the export');
  const beijing = new Date(Date.parse(made.county.created_at) + 8 * 3600 * 1000).toISOString().slice(0, 19).replace('T', ' ');
  assert.equal(mine[1], beijing, 'opened at Beijing time');
  assert.equal(mine[2], '家庭暴力');
  assert.match(mine[3], /^(待分派|已分派|办理中|已办结|已结案)$/);
  assert.ok(rows.every((r) => /[\u4e00-\u9fff]/.test(r[2]) && /[\u4e00-\u9fff]/.test(r[3])), 'category and status names in Chinese');
  assert.ok(!rows.some((r) => r.includes('韦小红')), 'no names in the export');
  await page.context().close();
});
