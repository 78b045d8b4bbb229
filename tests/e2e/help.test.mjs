// The help pages (issue 19 item 16): the 帮助 link opens the signed-in role's
// help, which is not loaded on the first visit; every screen a help page
// describes must still exist for that role, and its screenshot must be
// committed under frontend-dist/help/img/ (≤ 80 KiB, ≤ 1000 px wide) — so
// the guide fails here the day it drifts from the console. The unit and
// supervisor helps must keep describing the ledger's screens (MUST_DESCRIBE).
//
// The screenshots are taken from the demo on every run (into
// ci-artifacts/screenshots/help-*.png); `HELP_SHOTS=update` writes them over
// the committed ones instead (then commit them).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, SHOTS, launch, rolePage, login, apiLogin, apiGet, apiPost, sleep } from './harness.mjs';

const IMG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../frontend-dist/help/img');
const UPDATE = process.env.HELP_SHOTS === 'update';
const MAX_BYTES = 80 * 1024;
const VILLAGE = '450321101201'; // 遇龙村委会, 白沙镇
const OTHER_VILLAGE = '450321101202'; // 白沙镇, no mediation committee of its own
// The demo user of each help topic.
const USERS = { operator: 'operator', unit: 'station', mediator: 'mediator', police: 'police', supervisor: 'supervisor', admin: 'admin' };
// Screens a topic must describe, beyond its own first page (issue 17: the
// ledger's person page with its edit form, and 台账统计).
const MUST_DESCRIBE = { unit: ['ledger-person', 'ledger/report'], supervisor: ['ledger/report'] };
// Screens whose described part is further down: the screenshot starts there.
const SCROLL_TO = { 'ledger-person': '#lg-edit' };

/** The screens need something on them: cases for the station, the
 *  township's mediators and a high-risk one for the police board. */
async function setTheScene() {
  const op = await apiLogin('operator');
  const open = (body) => apiPost(op, '/cases', { region_code: VILLAGE, ...body });
  await open({ category: 'domestic_violence', summary: '丈夫酒后多次殴打，来电人想了解如何申请保护',
    danger_screen: { in_progress: false, answers: [false, false, false, true, false, false, false, false, false, false, false], screener_concern: false } });
  await open({ category: 'domestic_violence', summary: '前夫持刀威胁，已搬到娘家暂住',
    danger_screen: { in_progress: false, answers: [true, false, false, false, false, false, false, false, false, false, false], screener_concern: false } });
  await open({ category: 'neighbor_dispute', region_code: OTHER_VILLAGE, summary: '宅基地边界纠纷，双方多次争吵' });
  await open({ category: 'marriage_family', region_code: OTHER_VILLAGE, summary: '离婚后子女抚养费长期不付' });
}

/** A PNG's width, from its IHDR chunk. */
function pngWidth(file) {
  const b = fs.readFileSync(file);
  assert.equal(b.toString('ascii', 1, 4), 'PNG', `${file} is a PNG`);
  return b.readUInt32BE(16);
}

/** A person of the user's ledger, for the ledger's person page. */
async function personFor(topic) {
  const token = await apiLogin(USERS[topic]);
  const seen = (await apiGet(token, '/ledger/persons?limit=1')).items || [];
  assert.ok(seen.length, `${topic} sees a person on the ledger`);
  return seen[0].id;
}

/** The hash of a screen a help page describes (one record: the first the user sees). */
async function hashOf(topic, screen) {
  if (screen === 'case') return `#/case/${await caseFor(topic)}`;
  if (screen === 'ledger-person') return `#/ledger/${await personFor(topic)}`;
  return `#/${screen}`;
}

/** A case the user handles, for the case page. */
async function caseFor(topic) {
  const token = await apiLogin(USERS[topic]);
  const seen = (await apiGet(token, '/cases?limit=1')).items || [];
  assert.ok(seen.length, `${topic} sees a case`);
  return seen[0].id;
}

const problems = [];
const missing = [];
await setTheScene();
const browser = await launch();
try {
  for (const topic of Object.keys(USERS)) {
    const page = await rolePage(browser, `help ${topic}`, problems, { width: 880, height: 560 });
    const early = [];
    page.on('request', (r) => early.push(r.url()));
    await login(page, USERS[topic]);
    await page.waitForSelector('#help-link');
    await page.waitForSelector('main h1');
    assert.deepEqual(early.filter((u) => /\/help\/|views\/help\.js/.test(u)), [],
      'nothing of the help is loaded before it is opened');

    // The top bar's 帮助 opens this role's help, in Chinese.
    await page.click('#help-link');
    await page.waitForSelector(`.help-page[data-topic="${topic}"] h1`);
    assert.match(await page.textContent('.help-page h1'), /使用帮助/);
    for (const id of ['#help-colours', '#help-missed', '#help-offline']) {
      assert.ok(await page.$(`.help-page ${id}`), `${topic}: the help has ${id}`);
    }
    assert.match(await page.textContent('#help-colours'), /即将到期/);
    const sections = await page.$$eval('.help-page section[data-screen]', (ss) => ss.map((s) => ({
      screen: s.dataset.screen, shot: s.querySelector('img').dataset.shot, title: s.querySelector('h2').textContent })));
    assert.ok(sections.length > 0, `${topic}: the help describes its screens`);
    for (const screen of MUST_DESCRIBE[topic] || []) {
      assert.ok(sections.some((x) => x.screen === screen), `${topic}: the help describes ${screen}`);
    }
    if (topic === 'unit') {
      // Clearing a field and the one-look reveal are said where the form is.
      const text = await page.textContent('.help-page section[data-screen="ledger-person"]');
      for (const want of ['清空', '未指定', '审计日志', '重新隐藏']) assert.ok(text.includes(want), `the person page's help says ${want}`);
    }

    for (const s of sections) {
      // The screenshot is committed, small and narrow, and served.
      const file = path.join(IMG, s.shot);
      if (!fs.existsSync(file)) { if (!UPDATE) missing.push(s.shot); } else {
        assert.ok(fs.statSync(file).size <= MAX_BYTES, `${s.shot}: ${fs.statSync(file).size} bytes (at most ${MAX_BYTES})`);
        assert.ok(pngWidth(file) <= 1000, `${s.shot}: at most 1000 px wide`);
        assert.equal((await fetch(`${BASE}/help/img/${s.shot}`)).status, 200, `${s.shot} is served`);
      }
      // The screen it describes still exists for this role.
      const hash = await hashOf(topic, s.screen);
      await page.evaluate((h) => { location.hash = h; }, hash);
      await page.waitForSelector('main h1');
      await sleep(1200); // lists and counters fill in
      assert.equal(await page.evaluate(() => location.hash), hash, `${topic}: the screen "${s.title}" (${hash}) still exists`);
      assert.equal(await page.$('main .error[role=alert]'), null, `${topic}: ${hash} opens without an error`);
      assert.doesNotMatch(await page.textContent('main h1'), /找不到/, `${topic}: ${hash} is found`);
      if (SCROLL_TO[s.screen]) {
        await page.waitForSelector(SCROLL_TO[s.screen]);
        await page.evaluate((sel) => document.querySelector(sel).closest('section').scrollIntoView(), SCROLL_TO[s.screen]);
      }
      if (!UPDATE) await page.screenshot({ path: path.join(SHOTS, `help-${s.shot}`) });
      // A busy screen is cut shorter until it fits in 80 KiB.
      for (let height = 560; UPDATE; height -= 40) {
        await page.screenshot({ path: file, clip: { x: 0, y: 0, width: 880, height } });
        if (fs.statSync(file).size <= MAX_BYTES) break;
        assert.ok(height > 320, `${s.shot}: over 80 KiB even at ${height} px high`);
      }
    }
    // Another role's help is one click away.
    await page.evaluate(() => { location.hash = '#/help'; });
    await page.waitForSelector('.help-roles a');
    if (topic === 'police') {
      // English on request: a shorter version.
      await page.click('#lang-switch');
      await page.waitForFunction(() => /Help for/.test(document.querySelector('.help-page h1')?.textContent || ''));
      await page.click('#lang-switch');
      await page.waitForFunction(() => /使用帮助/.test(document.querySelector('.help-page h1')?.textContent || ''));
    }
    await page.context().close();
  }
} finally {
  await browser.close();
}
assert.deepEqual(missing, [], 'every screenshot a help page shows is committed (HELP_SHOTS=update, then commit frontend-dist/help/img/)');
assert.deepEqual(problems, [], 'no CSP violations or page errors');
console.log('help.test.mjs: ok');
