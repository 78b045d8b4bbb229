// The administrator's console (issue 19 item 12): a unit and a user for it,
// the user's temporary password and the forced change, deactivation (sign-in
// refused), a routing rule the preview follows, and retrying a failed mail.
// Fails if any of these is read-only or missing in the console.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launch, rolePage, login, shot, unlabeled, apiLogin, apiPost, apiGet, api, sleep } from './harness.mjs';

const VILLAGE = '450321101201'; // 遇龙村委会, 白沙镇
const TOWNSHIP = '450321101000'; // 白沙镇
const tag = Date.now().toString(36).slice(-5);
const UNIT = `白沙镇第三维权站${tag}`;
const USERNAME = `bs3.${tag}`;
const NEW_PASSWORD = 'yulong-river-bamboo-9';

const problems = [];
const browser = await launch();
try {
  const admin = await rolePage(browser, 'admin', problems);
  await login(admin, 'admin');
  await admin.waitForSelector('#adm-units table');
  await admin.waitForSelector('#adm-users table');
  assert.deepEqual(await unlabeled(admin), [], 'every admin control is labelled');

  // 1. A unit, with its place from the search and a duty phone.
  await admin.click('#adm-unit-new');
  await admin.fill('#adm-unit-form input[name=name]', UNIT);
  await admin.selectOption('#adm-unit-form select[name=kind]', 'rights_station');
  await admin.fill('#adm-unit-region-search', '白沙');
  await admin.click(`#adm-unit-region-search-results li[data-code="${TOWNSHIP}"]`);
  await admin.waitForFunction((code) => document.querySelector('#adm-unit-form input[name=region_code]').value === code, TOWNSHIP);
  await admin.fill('#adm-unit-form input[name=duty_phone]', '13912340000');
  await admin.click('#adm-unit-save');
  await admin.waitForSelector(`#adm-units tr[data-name="${UNIT}"]`);
  const unitRow = await admin.textContent(`#adm-units tr[data-name="${UNIT}"]`);
  assert.match(unitRow, /13912340000/, 'the duty phone is listed');
  assert.match(await admin.textContent('#adm-status-units'), new RegExp(UNIT));

  // 2. A user of that unit: the temporary password is shown once.
  await admin.click('#adm-user-new');
  await admin.fill('#adm-user-form input[name=username]', USERNAME);
  await admin.fill('#adm-user-form input[name=display_name]', '覃小燕');
  await admin.selectOption('#adm-user-form select[name=role]', 'station_worker');
  await admin.selectOption('#adm-user-form select[name=unit_id]', { label: UNIT });
  await admin.click('#adm-user-save');
  await admin.waitForSelector('#adm-temp-password');
  const temporary = (await admin.textContent('#adm-temp-password')).trim();
  assert.equal(temporary.length, 12, `a temporary password: ${temporary}`);
  await admin.waitForSelector(`#adm-users tr[data-username="${USERNAME}"]`);
  assert.match(await admin.textContent(`#adm-users tr[data-username="${USERNAME}"]`), /待修改临时密码/);
  await shot(admin, 'admin-temporary-password');

  // 3. The user signs in with it and can do nothing before choosing their own.
  const worker = await rolePage(browser, 'new worker', problems, { width: 390, height: 844 });
  await login(worker, USERNAME, temporary);
  await worker.waitForSelector('#password-form');
  await worker.evaluate(() => { location.hash = '#/cases'; });
  await sleep(500);
  assert.ok(await worker.$('#password-form'), 'no other page before the password is changed');
  await worker.fill('#password-form input[name=current_password]', temporary);
  await worker.fill('#password-form input[name=new_password]', NEW_PASSWORD);
  await worker.fill('#password-form input[name=again]', NEW_PASSWORD);
  await shot(worker, 'admin-forced-password-change');
  await worker.click('#password-submit');
  await worker.waitForFunction(() => location.hash.startsWith('#/queue'));
  await worker.waitForSelector('h1');

  // 4. Deactivated: the open session ends and signing in is refused.
  await admin.click(`#adm-users tr[data-username="${USERNAME}"] button[data-act=active]`);
  await admin.waitForFunction((u) => /已停用/.test(document.querySelector('#adm-status-users').textContent) && document.querySelector('#adm-status-users').textContent.includes(u), USERNAME);
  await login(worker, USERNAME, NEW_PASSWORD);
  await worker.waitForSelector('#login-form .form-error:not([hidden])');
  assert.match(await worker.textContent('#login-form .form-error'), /用户名或密码不正确/);

  // 5. A routing rule changed here moves the preview at once (and back).
  const note = '#adm-route-route';
  await admin.fill('#adm-route-search', '遇龙');
  await admin.click(`#adm-route-search-results li[data-code="${VILLAGE}"]`);
  await admin.waitForFunction((sel) => /白沙镇妇女维权站/.test(document.querySelector(sel).textContent), note);
  const row = '#adm-routing tr[data-category="domestic_violence"]';
  await admin.selectOption(`${row} select`, 'police');
  await admin.click(`${row} button`);
  await admin.waitForFunction((sel) => /派出所/.test(document.querySelector(sel).textContent), note);
  await admin.locator(note).scrollIntoViewIfNeeded();
  await shot(admin, 'admin-routing-preview');
  await admin.selectOption(`${row} select`, 'rights_station');
  await admin.click(`${row} button`);
  await admin.waitForFunction((sel) => /白沙镇妇女维权站/.test(document.querySelector(sel).textContent), note);

  // 6. A mail the sender gave up on is retried from the outbox.
  const op = await apiLogin('operator');
  const kase = await apiPost(op, '/cases', { category: 'marriage_family', region_code: VILLAGE, summary: `管理测试：邮件重试 ${tag}` });
  // The supervisor's urging is mailed to the unit.
  await apiPost(await apiLogin('supervisor'), `/cases/${kase.id}/urge`, { opinion: '请尽快联系当事人并反馈。' });
  const token = await apiLogin('admin');
  let mail = null;
  for (let i = 0; i < 50 && !mail; i += 1) {
    mail = ((await apiGet(token, '/admin/outbox?status=sent')).items || [])[0];
    if (!mail) await sleep(200);
  }
  assert.ok(mail, 'a case notice was mailed');
  giveUp(mail.id);
  await admin.selectOption('#adm-outbox-status', 'pending');
  await admin.selectOption('#adm-outbox-status', 'failed');
  const mailRow = `#adm-outbox tr[data-id="${mail.id}"]`;
  await admin.waitForSelector(`${mailRow} button`);
  await shot(admin, 'admin-outbox-failed');
  await admin.click(`${mailRow} button`);
  await admin.waitForFunction(() => /已重新排队/.test(document.querySelector('#adm-status-outbox').textContent));
  const after = (await apiGet(token, '/admin/outbox')).items.find((m) => m.id === mail.id);
  assert.notEqual(after.status, 'failed', 'the retried mail is queued again');

  // 7. The deadline clocks in Chinese and the jobs with their last run.
  await admin.waitForSelector('#adm-deadlines tr[data-key="imminent.acknowledge_s"]');
  assert.match(await admin.textContent('#adm-deadlines tr[data-key="imminent.acknowledge_s"]'), /紧急警情：公安确认接警.*40 秒/);
  assert.match(await admin.textContent('#adm-deadlines tr[data-key="resolve_s"]'), /案件办结.*15 天/);
  await admin.waitForSelector('#adm-jobs tr[data-job="cleanup"]');
  assert.match(await admin.textContent('#adm-jobs'), /清理过期登录/);

  // 8. The audit trail holds each change.
  const users = (await apiGet(token, '/users')).items;
  const created = users.find((u) => u.username === USERNAME);
  assert.equal(created.active, false);
  assert.equal(created.must_change_password, false);
  await api(token, 'PATCH', `/users/${created.id}`, { active: true }); // leave the server tidy

  // On a phone the admin page is one column of cards.
  const phone = await rolePage(browser, 'admin phone', problems, { width: 360, height: 740 });
  await login(phone, 'admin');
  await phone.waitForSelector('#adm-users table');
  const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 362, `no sideways scrolling at 360 px (${wide})`);
  await shot(phone, 'admin-phone');
} finally {
  await browser.close();
}
assert.deepEqual(problems, [], 'no CSP violations or page errors');
console.log('admin.test.mjs: ok');

/** Mark a mail as given up on, as the sender does after its last attempt. */
function giveUp(id) {
  const url = process.env.LIANXIN_DATABASE_URL || '';
  const file = url.replace(/^sqlite:\/\//, '').replace(/\?.*$/, '');
  assert.ok(url.startsWith('sqlite:') && file, 'the browser test runs on the SQLite demo database');
  execFileSync('python3', ['-c', `
import sqlite3, sys, uuid
db = sqlite3.connect(sys.argv[1], timeout=10)
db.execute("UPDATE mail_outbox SET sent_at = NULL, failed_at = created_at, attempts = 5, last_error = '550 mailbox unavailable' WHERE id = ?", (uuid.UUID(sys.argv[2]).bytes,))
db.commit()
`, file, id]);
}
