// The ledger of left-behind women in the console (issue 17): a township
// station imports a screening file with bad rows and reads the row
// report, filters the list, opens a person, records a visit (next review
// date shown) and her safe contact; the operator's screen pop for her
// number shows her flags and the safe-contact warning (ringing and in the
// waiting list), and says "not on the ledger" only for a number the
// server looked up and did not find; her details are edited (a bad phone
// refused on its field, phones, village and contact person kept after a
// reload, a conflicting change said and reloaded, her contact person and
// the date her husband left cleared); a reveal is one click and one audit
// row (a reload, coming back or a save shows her numbers masked and
// reveals nothing); 台账统计 counts what an
// import added; a case opened with her ID number shows her safe contact
// taken from the ledger on its timeline; the pages fit a phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BASE, sleep, launch, rolePage, login, shot, unlabeled, apiLogin, apiPost } from './harness.mjs';

const VILLAGE = '450321101201'; // 遇龙村, 白沙镇 (the station's township)
const CHAIN = ['450000000000', '450300000000', '450321000000', '450321101000', VILLAGE];
const ELSEWHERE = '450321102201'; // 福利村, 福利镇
const JIUXIAN = '450321101202'; // 旧县村, 白沙镇
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const checkChar = (s17) => '10X98765432'[[...s17].reduce((a, c, i) => a + Number(c) * WEIGHTS[i], 0) % 11];
const rnd = (n) => Math.floor(Math.random() * n);
const CHARS = '甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉';
const TAG = `谭${CHARS[rnd(20)]}${CHARS[rnd(20)]}${CHARS[rnd(20)]}`;
const idNumber = (seq) => {
  const s17 = `450321${1970 + rnd(20)}0${1 + rnd(9)}1${rnd(9)}${String(seq * 2).padStart(3, '0')}`;
  return s17 + checkChar(s17);
};
const phone = () => `139${String(rnd(1e8)).padStart(8, '0')}`;
const people = [
  { name: `${TAG}一`, id: idNumber(101), phone: phone(), disabled: '否' },
  { name: `${TAG}二`, id: idNumber(102), phone: phone(), disabled: '是' },
  { name: `${TAG}三`, id: idNumber(103), phone: phone(), disabled: '否' },
];
const HER = people[1];
const SECOND = phone();
const HEADER = '姓名,身份证号,出生日期,联系电话,村（居）代码,丈夫外出时间,在村居住,低保,建档立卡,残疾,重病,权益受侵害,照料负担,排查人,排查日期';
const CSV = [
  HEADER,
  ...people.map((p) => `${p.name},${p.id},,${p.phone},${VILLAGE},2020-03,是,否,否,${p.disabled},否,否,否,遇龙村委会,2026-09-15`),
  `${TAG}四,${HER.id.slice(0, 17)}${checkChar(HER.id.slice(0, 17)) === '1' ? '2' : '1'},,${phone()},${VILLAGE},2020-03,是,否,否,否,否,否,否,遇龙村委会,2026-09-15`,
  `${TAG}五,,,${phone()},${ELSEWHERE},2020-03,是,否,否,否,否,否,否,福利村委会,2026-09-15`,
].join('\n');

/** How many audit rows of `action` she has, read from the demo's SQLite
 *  file (the console shows no audit log). */
function audited(action, personId) {
  const url = process.env.LIANXIN_DATABASE_URL || '';
  const file = url.replace(/^sqlite:\/\//, '').replace(/\?.*$/, '');
  assert.ok(url.startsWith('sqlite:') && file, 'the browser test runs on the SQLite demo database');
  return Number(execFileSync('python3', ['-c', `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
print(db.execute("SELECT count(*) FROM audit_log WHERE action = ? AND target = ?", (sys.argv[2], 'ledger_person:' + sys.argv[3])).fetchone()[0])
`, file, action, personId]).toString().trim());
}

let browser;
const problems = [];
let station;
let personUrl;
let reveals = 0; // her ledger.reveal audit rows so far
const herId = () => personUrl.split('/').pop();

/** Her ID number is shown masked, with the button to reveal it. */
async function masked(page) {
  await page.waitForSelector('#lg-reveal');
  const shown = await page.textContent('#lg-id-number');
  assert.ok(shown.includes('*') && !shown.includes(HER.id), `masked: ${shown}`);
}

before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

async function online(page) {
  await page.waitForFunction(() => document.getElementById('net-banner').dataset.state === 'online', null, { timeout: 15000 });
}

async function rows(page) {
  return page.$$eval('#lg-list tbody tr .lg-name', (as) => as.map((a) => a.textContent));
}

test('a township station imports a screening file and sees each rejected row in the report', async () => {
  station = await rolePage(browser, 'station', problems);
  await login(station, 'station');
  await station.waitForURL(/#\/queue/);
  await station.click('nav a[href="#/ledger"]');
  await station.waitForSelector('#lg-import');
  await station.setInputFiles('#lg-file', { name: '排查表.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV, 'utf8') });
  await station.click('#lg-import-go');
  await station.waitForSelector('#lg-report');
  const count = async (k) => Number(await station.textContent(`#lg-report [data-count=${k}] .stat-value`));
  assert.equal(await count('created'), 3, 'three persons created');
  assert.equal(await count('rejected'), 2, 'two rows rejected');
  const rejections = await station.$$eval('#lg-rejections tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rejections, [['5', '身份证号', '身份证号校验位错误'], ['6', '村（居）代码', '不在本单位辖区内']]);
  assert.deepEqual(await unlabeled(station), []);
  await shot(station, 'ledger-01-import-report');
});

test('the list filters by place (type-ahead), text and flag, and pages with "more"', async () => {
  await station.fill('#region-search', '遇龙');
  await station.waitForSelector('#region-results .region-hit');
  await station.click(`#region-results .region-hit[data-code="${VILLAGE}"]`);
  await station.waitForFunction(() => document.getElementById('lg-place-chosen').textContent.includes('遇龙村'));
  // The village alone: the demo's persons there, 50 at a time, and more.
  await station.waitForFunction(() => document.querySelectorAll('#lg-list tbody tr').length === 50);
  assert.equal(await station.isVisible('#lg-more'), true, 'a second page is offered');
  await station.click('#lg-more');
  await station.waitForFunction(() => document.querySelectorAll('#lg-list tbody tr').length > 50);
  await station.fill('#lg-q', TAG);
  await station.press('#lg-q', 'Enter');
  await station.waitForFunction(() => document.querySelectorAll('#lg-list tbody tr').length === 3);
  assert.deepEqual((await rows(station)).sort(), people.map((p) => p.name).sort());
  await station.selectOption('#lg-flag', 'disabled');
  await station.waitForFunction(() => document.querySelectorAll('#lg-list tbody tr').length === 1);
  assert.deepEqual(await rows(station), [HER.name]);
  assert.match(await station.textContent('#lg-list tbody tr'), /残疾/);
  await shot(station, 'ledger-02-list-filtered');
});

test('a person page masks her ID number until an audited reveal', async () => {
  await station.click('#lg-list .lg-name');
  await station.waitForSelector('#lg-name');
  personUrl = station.url();
  assert.equal(await station.textContent('#lg-name'), HER.name);
  const masked = await station.textContent('#lg-id-number');
  assert.ok(masked.includes('*') && !masked.includes(HER.id), `masked: ${masked}`);
  assert.match(await station.textContent('#lg-reveal-note'), /审计/);
  await station.click('#lg-reveal');
  await station.waitForSelector('#lg-revealed');
  assert.equal(await station.textContent('#lg-id-number'), HER.id);
  assert.match(await station.textContent('#lg-phones'), new RegExp(HER.phone));
  reveals = audited('ledger.reveal', herId());
  assert.equal(reveals, 1, 'the reveal is audited');
});

test('a reveal is one look: a reload or coming back shows her numbers masked and writes no audit row', async () => {
  await station.reload();
  await station.waitForSelector('#lg-name');
  await masked(station);
  await station.reload();
  await masked(station);
  assert.equal(audited('ledger.reveal', herId()), reveals, 'a reload reveals nothing');
  // To the list and back (the browser's back button).
  await station.click('a.back-link');
  await station.waitForSelector('#lg-list');
  await station.goBack();
  await station.waitForSelector('#lg-name');
  await masked(station);
  assert.equal(audited('ledger.reveal', herId()), reveals, 'coming back reveals nothing');
  // Another look is another click, and another audit row.
  await station.click('#lg-reveal');
  await station.waitForSelector('#lg-revealed');
  assert.equal(await station.textContent('#lg-id-number'), HER.id);
  reveals += 1;
  assert.equal(audited('ledger.reveal', herId()), reveals);
});

test('recording a visit shows it and the next review date, 180 days on', async () => {
  await station.selectOption('#lg-visit select[name=kind]', 'phone');
  await station.fill('#lg-visit textarea[name=notes]', '电话回访，近况平稳。');
  await station.click('#lg-visit button[type=submit]');
  await station.waitForSelector('#lg-visits li');
  const expected = await station.evaluate(() => new Intl.DateTimeFormat('zh-CN', {
    year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'Asia/Shanghai',
  }).format(new Date(Date.now() + 180 * 86400e3)));
  assert.match(await station.textContent('#lg-note'), new RegExp(`下次复核：${expected}`));
  assert.match(await station.textContent('#lg-next-review'), new RegExp(expected));
  assert.match(await station.textContent('#lg-visits'), /电话回访/);
  // The page read her again after the visit: masked, no reveal audited.
  await masked(station);
  assert.equal(audited('ledger.reveal', herId()), reveals, 'a visit reveals nothing');
  await shot(station, 'ledger-03-person-visit');
});

test('her safe contact is edited with the version read', async () => {
  await station.uncheck('#lg-care input[name=safe_to_call]');
  await station.check('#lg-care input[name=no_sms]');
  await station.fill('#lg-care input[name=safe_hours]', '09:00-11:30');
  await station.fill('#lg-care input[name=code_word]', '买菜');
  await station.click('#lg-care button[type=submit]');
  await station.waitForFunction(() => (document.getElementById('lg-note') || {}).textContent === '已保存');
  assert.match(await station.textContent('.lg-safe'), /不可来电/);
  assert.match(await station.textContent('.lg-safe'), /买菜/);
});

test("the operator's screen pop shows her flags and the safe-contact warning; an unknown number is said to be off the ledger", async () => {
  const op = await rolePage(browser, 'operator', problems);
  await login(op, 'operator');
  await op.waitForURL(/#\/intake/);
  assert.equal(await op.$('nav a[href="#/ledger"]'), null, 'no ledger menu for operators');
  await online(op);
  const ring = (ref) => fetch(`${BASE}/api/v1/cti/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CTI-Secret': process.env.LIANXIN_CTI_SECRET || '' },
    body: JSON.stringify({ event: 'ringing', call_ref: ref, from: HER.phone, to: '12338', operator: 'operator' }),
  });
  assert.equal((await ring(`ledger-${TAG}-1`)).status, 202);
  await op.waitForSelector('#caller-history .ledger-box');
  const box = '#caller-history .ledger-box';
  await op.waitForFunction((sel) => document.querySelector(sel).textContent.includes('遇龙村'), box);
  const text = await op.textContent(box);
  for (const want of ['留守妇女', '残疾', '不可来电', '安全时段：09:00-11:30', '不发短信', '暗号：“买菜”', '最近走访']) {
    assert.ok(text.includes(want), `screen pop says ${want}: ${text}`);
  }
  assert.ok(!text.includes(HER.name) && !text.includes(HER.id), 'no name or ID number in the screen pop');
  // A second ring while she is on the line waits with its own ledger box.
  assert.equal((await ring(`ledger-${TAG}-2`)).status, 202);
  await op.waitForSelector('#waiting-calls .ledger-box-compact');
  assert.match(await op.textContent('#waiting-calls .ledger-box-compact'), /不可来电/);
  await shot(op, 'ledger-04-screen-pop');
  // She files a case without an ID number: the ledger proposes her by
  // phone, and one click links the case to her.
  await op.selectOption('#intake-category', 'marriage_family');
  const levels = op.locator('select.region-level');
  for (let i = 0; i < CHAIN.length; i += 1) {
    await op.waitForSelector(`select.region-level[data-level="${i}"] option[value="${CHAIN[i]}"]`, { state: 'attached' });
    await levels.nth(i).selectOption(CHAIN[i]);
  }
  await op.fill('#intake-summary', '婚姻家庭纠纷，来电咨询');
  await op.check('input[name=same_phone]');
  await op.click('#intake-form button[type=submit]');
  await op.waitForSelector('#intake-result .lg-matches');
  assert.match(await op.textContent('#intake-result .lg-matches'), /不可来电/);
  await op.click('#intake-result .lg-link');
  await op.waitForSelector('#intake-result .lg-linked');
  // A number the server looked up and did not find.
  await op.click('#end-call');
  await op.fill('#caller-phone', '13700000001');
  await op.press('#caller-phone', 'Enter');
  await op.waitForSelector('#caller-history .lg-none');
  assert.equal(await op.textContent('#caller-history .lg-none'), '台账中无此号码');
  assert.equal(await op.$('#caller-history .ledger-box'), null);
  await op.context().close();
});

test('her details are edited: a bad phone is refused on its field; phones, village and contact person stay after a reload', async () => {
  await station.reload(); // her numbers masked again
  await station.waitForSelector('#lg-edit');
  // The masked phones are not hers to retype: reveal first (audited).
  await station.click('#lg-edit-reveal');
  await station.waitForSelector('#lg-edit input[name=phone]');
  await station.fill('#lg-edit input[name=phone]', '12345');
  await station.click('#lg-edit button[type=submit]');
  const phoneErr = '#lg-edit [data-field=phones] .field-error';
  await station.waitForSelector(phoneErr, { state: 'visible' });
  assert.match(await station.textContent(phoneErr), /电话号码不正确/);
  await station.fill('#lg-edit input[name=phone]', HER.phone);
  await station.click('#lg-phone-add');
  await station.fill('#lg-edit .lg-phone-row:nth-child(2) input', `+86 ${SECOND.slice(0, 3)}-${SECOND.slice(3, 7)}-${SECOND.slice(7)}`);
  await station.fill('#lg-village-search', '旧县');
  await station.click(`#lg-village-search-results .region-hit[data-code="${JIUXIAN}"]`);
  await station.waitForFunction(() => document.getElementById('lg-edit-village').textContent.includes('旧县村'));
  // The keepers of 旧县村: the township's station and county civil affairs.
  await station.waitForFunction(() => [...document.querySelectorAll('#lg-contact option')].some((o) => o.textContent.includes('周红')));
  const civil = await station.$$eval('#lg-contact option', (os) => os.find((o) => o.textContent.includes('周红')).value);
  await station.selectOption('#lg-contact', civil);
  assert.deepEqual(await unlabeled(station), []);
  await station.click('#lg-edit button[type=submit]');
  await station.waitForFunction(() => (document.getElementById('lg-note') || {}).textContent === '已保存');
  await masked(station); // a save shows them masked again
  assert.equal(audited('ledger.reveal', herId()), reveals + 1, 'one click, one audit row');
  await station.reload();
  await station.waitForSelector('#lg-name');
  assert.match(await station.textContent('#lg-contact-person'), /周红/);
  // The place's name is looked up after the page draws (the code shows first).
  await station.waitForFunction(() => document.getElementById('lg-details').textContent.includes('旧县村'));
  await station.click('#lg-reveal');
  await station.waitForSelector('#lg-revealed');
  const phones = await station.textContent('#lg-phones');
  assert.ok(phones.includes(HER.phone) && phones.includes(SECOND), `both numbers, normalised: ${phones}`);
  await shot(station, 'ledger-07-person-edited');
  // Someone else changes her meanwhile: the page says so and reloads.
  const token = await apiLogin('civil');
  const id = personUrl.split('/').pop();
  const cur = await (await fetch(`${BASE}/api/v1/ledger/persons/${id}`, { headers: { Authorization: `Bearer ${token}` } })).json();
  const r = await fetch(`${BASE}/api/v1/ledger/persons/${id}`, {
    method: 'PATCH', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: `${HER.name}甲`, version: cur.version }),
  });
  assert.equal(r.status, 200);
  await station.fill('#lg-edit input[name=name]', `${HER.name}乙`);
  await station.click('#lg-edit button[type=submit]');
  await station.waitForFunction(() => /他人刚刚修改/.test((document.getElementById('lg-note') || {}).textContent));
  assert.equal(await station.textContent('#lg-name'), `${HER.name}甲`);
});

test('her contact person and the date her husband left are cleared from the form; she is then not left behind', async () => {
  const row = (label) => station.$$eval('#lg-details dt', (dts, l) => {
    const dt = dts.find((d) => d.textContent === l);
    return dt ? dt.nextElementSibling.textContent : null;
  }, label);
  assert.ok(await station.$('.page-head .lg-left-behind'), 'left behind before');
  assert.match(await row('丈夫外出时间'), /2020-03-01/);
  await station.waitForSelector('#lg-contact:not([disabled])');
  await station.selectOption('#lg-contact', '');
  assert.equal(await station.$eval('#lg-contact', (s) => s.selectedOptions[0].textContent), '未指定');
  await station.fill('#lg-edit input[name=husband_away_since]', '');
  await station.click('#lg-edit button[type=submit]');
  await station.waitForFunction(() => (document.getElementById('lg-note') || {}).textContent === '已保存');
  assert.equal(await station.textContent('#lg-contact-person'), '—');
  assert.equal(await row('丈夫外出时间'), '—');
  assert.equal(await station.$('.page-head .lg-left-behind'), null, 'no longer left behind');
  // As the server keeps it, after a reload.
  await station.reload();
  await station.waitForSelector('#lg-name');
  assert.equal(await station.textContent('#lg-contact-person'), '—');
  assert.equal(await station.inputValue('#lg-edit input[name=husband_away_since]'), '');
  await station.waitForSelector('#lg-contact:not([disabled])');
  assert.equal(await station.inputValue('#lg-contact'), '');
});

test('台账统计 (from the top bar) counts by village the persons an import added', async () => {
  await station.click('nav a[href="#/ledger/report"]');
  await station.waitForSelector('#lg-rp-table');
  assert.equal(await station.getAttribute('nav a[href="#/ledger/report"]', 'aria-current'), 'page');
  const heads = await station.$$eval('#lg-rp-table thead th', (ths) => ths.map((x) => x.textContent));
  assert.deepEqual(heads, ['地区', '在册人数', '留守妇女', '低保', '建档立卡', '残疾', '重病', '权益受侵害', '照料负担', '待回访']);
  const cellOf = (code, col) => station.textContent(`#lg-rp-table tr[data-code="${code}"] td[data-col="${col}"]`).then(Number);
  const before = { persons: await cellOf(VILLAGE, 'persons'), disabled: await cellOf(VILLAGE, 'flag.disabled'),
    left: await cellOf(VILLAGE, 'left_behind'), total: await cellOf('450321101000', 'persons') };
  await station.waitForFunction((code) => document.querySelector(`#lg-rp-table tr[data-code="${code}"] th`).textContent.includes('遇龙村'), VILLAGE);
  // Two more women of 遇龙村 screened, one disabled, both left behind.
  const token = await apiLogin('station');
  const more = [HEADER,
    `${TAG}六,${idNumber(106)},,${phone()},${VILLAGE},2020-03,是,否,否,是,否,否,否,遇龙村委会,2026-09-15`,
    `${TAG}七,${idNumber(107)},,${phone()},${VILLAGE},2020-03,是,否,否,否,否,否,否,遇龙村委会,2026-09-15`].join('\n');
  const r = await fetch(`${BASE}/api/v1/ledger/imports`, {
    method: 'POST', headers: { 'Content-Type': 'text/csv', Authorization: `Bearer ${token}` }, body: more,
  });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).created, 2);
  await station.click('#lg-rp-filters button[type=submit]');
  await station.waitForFunction((n) => Number(document.querySelector('#lg-rp-table tr[data-code="450321101201"] td[data-col=persons]')?.textContent) === n,
    before.persons + 2);
  assert.equal(await cellOf(VILLAGE, 'flag.disabled'), before.disabled + 1);
  assert.equal(await cellOf(VILLAGE, 'left_behind'), before.left + 2);
  assert.equal(await cellOf('450321101000', 'persons'), before.total + 2, 'the total row');
  assert.match(await station.textContent('#lg-rp-visits'), /期间内走访 \d+ 次/);
  await shot(station, 'ledger-08-report');
  // A village's name opens it.
  await station.click(`#lg-rp-table .lg-rp-area[data-code="${VILLAGE}"]`);
  await station.waitForFunction(() => document.querySelectorAll('#lg-rp-table tbody tr').length === 1);
});

test("a case opened with her ID number takes her safe contact, and its timeline says so in Chinese", async () => {
  const token = await apiLogin('operator');
  const c = await apiPost(token, '/cases', {
    category: 'marriage_family', region_code: VILLAGE, summary: '再次来电，婚姻家庭纠纷',
    subject: { name: HER.name, id_number: HER.id },
  });
  assert.ok(c.ledger_person_id, 'linked at intake by her ID number');
  const op = await rolePage(browser, 'operator timeline', problems);
  await login(op, 'operator');
  await op.waitForURL(/#\/intake/);
  await op.goto(`${BASE}/#/case/${c.id}`);
  const item = '#timeline li[data-event="case.contact_safety_set"]';
  await op.waitForSelector(item);
  const text = await op.textContent(item);
  for (const want of ['登记安全联系方式', '取自留守妇女信息台账', '不可来电', '安全时段：09:00-11:30', '不发短信']) {
    assert.ok(text.includes(want), `timeline says ${want}: ${text}`);
  }
  assert.ok(!text.includes('买菜'), 'never the code word');
  await op.context().close();
});

test('on a phone (390×844) the ledger list and a person page have nothing off-screen', async () => {
  const page = await rolePage(browser, 'station phone', problems, { width: 390, height: 844 });
  await login(page, 'station');
  await page.waitForURL(/#\/queue/);
  const wide = () => page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out = [...document.querySelectorAll('main *')].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && (r.right > w + 1 || r.left < -1);
    }).map((el) => `${el.tagName}.${el.className}`);
    return { scroll: document.documentElement.scrollWidth, w, out: out.slice(0, 5) };
  });
  await page.goto(`${BASE}/#/ledger`);
  await page.waitForFunction(() => document.querySelectorAll('#lg-list tbody tr').length > 0);
  let r = await wide();
  assert.ok(r.scroll <= r.w && r.out.length === 0, `ledger list off-screen: ${JSON.stringify(r)}`);
  await shot(page, 'ledger-05-phone-list');
  await page.goto(personUrl);
  await page.waitForSelector('#lg-visit');
  // The case the operator linked is hers.
  assert.match(await page.textContent('#lg-cases'), /婚姻家庭/);
  await sleep(200);
  r = await wide();
  assert.ok(r.scroll <= r.w && r.out.length === 0, `person page off-screen: ${JSON.stringify(r)}`);
  await shot(page, 'ledger-06-phone-person');
  await page.context().close();
});

test('a supervisor reads the ledger without changing it; legal aid has no ledger; English comes with the page', async () => {
  const sup = await rolePage(browser, 'supervisor', problems);
  await login(sup, 'supervisor');
  await sup.waitForURL(/#\/supervise/);
  await sup.click('nav a[href="#/ledger"]');
  await sup.waitForFunction(() => document.querySelectorAll('#lg-list tbody tr').length > 0);
  assert.equal(await sup.$('#lg-import'), null, 'no import for a supervisor');
  await sup.goto(personUrl);
  await sup.waitForSelector('#lg-name');
  assert.equal(await sup.$('#lg-visit'), null, 'no visit form');
  assert.equal(await sup.$('#lg-care'), null, 'no safe-contact form');
  assert.equal(await sup.$('#lg-edit'), null, 'no edit form');
  assert.match(await sup.textContent('.lg-safe'), /不可来电/);
  // 台账统计 for the county, by township.
  await sup.click('nav a[href="#/ledger/report"]');
  await sup.waitForFunction(() => document.querySelector('#lg-rp-table .lg-rp-area[data-code="450321101000"]'));
  assert.ok(Number(await sup.textContent('#lg-rp-table tfoot td[data-col=persons]')) > 0);
  await sup.goto(personUrl);
  await sup.waitForSelector('#lg-name');
  // English, chosen on the person page, reaches its strings.
  await sup.click('#lang-switch');
  await sup.waitForFunction(() => document.documentElement.lang === 'en');
  await sup.waitForFunction(() => (document.querySelector('.lg-safe') || {}).textContent?.includes('Do not call'));
  assert.match(await sup.textContent('#lg-next-review'), /Next review/);
  await sup.click('#lang-switch');
  await sup.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  await sup.context().close();

  const legal = await rolePage(browser, 'legalaid', problems);
  await login(legal, 'legalaid');
  await legal.waitForURL(/#\/queue/);
  assert.equal(await legal.$('nav a[href="#/ledger"]'), null, 'no ledger menu for legal aid');
  await legal.goto(`${BASE}/#/ledger`);
  await legal.waitForFunction(() => /不能/.test((document.getElementById('lg-count') || {}).textContent || ''));
  assert.equal(await legal.$$eval('#lg-list tbody tr', (r) => r.length), 0);
  await legal.context().close();
});

test('no CSP violations or page errors', () => {
  assert.deepEqual(problems, []);
});
