// The hotline's own loop in the console (issue 18): the handling unit asks
// for an extension from the case page, a supervisor approves it there and
// the new resolve deadline shows; the operator links a second case as a
// duplicate from its page and the screen pop for her number groups the
// two; the follow-up call form warns and shows the refusal in words when
// her safe contact says calls are unsafe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, rolePage, login, shot, unlabeled, apiLogin, apiPost, api } from './harness.mjs';

const VILLAGE = '450321101201'; // 遇龙村, 白沙镇 (the station's township)
const PHONE = `137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

let browser;
const problems = [];
let original;
let duplicate;

/** `YYYY-MM-DDTHH:MM` in the browser's (this machine's) local time. */
function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

async function openCase(token, summary) {
  return apiPost(token, '/cases', {
    category: 'domestic_violence', region_code: VILLAGE, summary,
    subject: { name: '韦丽', phone: PHONE },
  });
}

before(async () => {
  browser = await launch();
  const op = await apiLogin('operator');
  original = await openCase(op, '丈夫殴打，要求离婚（原件）');
  duplicate = await openCase(op, '丈夫殴打，要求离婚（重复来电）');
});
after(async () => { if (browser) await browser.close(); });

async function casePage(page, id) {
  await page.goto(`${BASE}/#/case/${id}`);
  await page.waitForSelector('#case-hotline');
}

test('the station asks for an extension, the supervisor approves and the new deadline shows', async () => {
  const station = await rolePage(browser, 'station', problems);
  await login(station, 'station');
  await station.waitForURL(/#\/queue/);
  await casePage(station, original.id);
  const due = new Date(original.deadlines.resolve_due_at);
  const until = new Date(due.getTime() + 7 * 86400000);
  until.setSeconds(0, 0);
  await station.fill('#form-extension input[name=until]', localInput(until));
  await station.fill('#form-extension textarea[name=reason]', '需等待法院调解结果');
  await station.click('#form-extension button[type=submit]');
  await station.waitForSelector('#case-extensions li[data-status=pending]');
  assert.deepEqual(await unlabeled(station), [], 'every control on the case page is labelled');

  const sup = await rolePage(browser, 'supervisor', problems);
  await login(sup, 'supervisor');
  await sup.waitForURL(/#\/supervise/);
  await casePage(sup, original.id);
  await sup.waitForSelector('#case-extensions li[data-status=pending] button');
  await sup.click('#case-extensions li[data-status=pending] button:first-of-type');
  await sup.waitForSelector('#case-extensions li[data-status=approved]');
  // The case's resolve countdown now runs to the extended time.
  await sup.waitForFunction((ms) => [...document.querySelectorAll('.countdown[data-due]')]
    .some((el) => Date.parse(el.dataset.due) === ms), until.getTime());
  await shot(sup, 'hotline-extension-approved');
  // The station sees it too (live).
  await station.waitForSelector('#case-extensions li[data-status=approved]');
  await station.context().close();
  await sup.context().close();
});

test('the operator links a duplicate from the case page and the screen pop groups them', async () => {
  const op = await rolePage(browser, 'operator', problems);
  await login(op, 'operator');
  await op.waitForURL(/#\/intake/);
  await casePage(op, duplicate.id);
  await op.fill('#form-link input[name=other_case_id]', original.number);
  await op.selectOption('#form-link select[name=kind]', 'duplicate');
  await op.click('#form-link button[type=submit]');
  await op.waitForSelector(`#case-links a:text("${original.number}")`);

  await op.goto(`${BASE}/#/intake`);
  await op.waitForSelector('#caller-phone');
  await op.fill('#caller-phone', PHONE);
  await op.press('#caller-phone', 'Enter');
  await op.waitForSelector('#caller-history .hist-dup');
  const rows = await op.$$eval('#caller-history .hist-list li', (lis) => lis.map((li) => ({
    dup: li.classList.contains('hist-dup'), text: li.textContent,
  })));
  const at = (n) => rows.findIndex((r) => r.text.includes(n));
  assert.ok(at(original.number) >= 0 && at(duplicate.number) === at(original.number) + 1,
    `the duplicate right after its original: ${JSON.stringify(rows)}`);
  assert.ok(rows[at(duplicate.number)].dup, 'marked as a duplicate');
  await shot(op, 'hotline-screen-pop-grouped');
  await op.context().close();
});

test('the follow-up call form warns and is refused when calls are unsafe', async () => {
  const station = await apiLogin('station');
  await api(station, 'PUT', `/cases/${original.id}/contact-safety`, { safe_to_call: false, no_sms: true });
  const op = await rolePage(browser, 'operator', problems, { width: 360, height: 740 });
  await login(op, 'operator');
  await op.waitForURL(/#\/intake/);
  await casePage(op, original.id);
  await op.waitForSelector('#form-follow-up .cb-warning:not([hidden])');
  assert.match(await op.textContent('#form-follow-up .cb-warning'), /不宜来电/);
  const tomorrow = new Date(Date.now() + 86400000);
  tomorrow.setHours(10, 0, 0, 0);
  await op.fill('#form-follow-up input[name=due_at]', localInput(tomorrow));
  await op.fill('#form-follow-up input[name=notes]', '询问离婚诉讼进展');
  await op.click('#form-follow-up button[type=submit]');
  await op.waitForSelector('#form-follow-up .form-error:not([hidden])');
  assert.match(await op.textContent('#form-follow-up .form-error'), /不宜来电/);
  const overflow = await op.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the case page fits 360 px (overflow ${overflow})`);
  await shot(op, 'hotline-follow-up-refused-360');
  // Nothing was queued.
  const token = await apiLogin('operator');
  const queue = await api(token, 'GET', '/callbacks?kind=follow_up');
  assert.ok(!queue.items.some((c) => c.case_id === original.id), 'no follow-up queued');
  await op.context().close();
  assert.deepEqual(problems, [], 'no CSP violations or page errors');
});
