// What the admin reads and nudges: the deadline clocks this server runs
// with (read-only: they live in the configuration file), the mail outbox
// (retry a message the sender gave up on) and the scheduled jobs.
import { h, replace, field, options } from '../../dom.js';
import { t, label } from '../../i18n.js';
import { get, post, qs, errorText } from '../../api.js';
import { fmtTime } from '../../util.js';
import { panel, statusLine, table, actionButton } from './common.js';

/** "15 天", "2 小时 30 分钟": the largest units that divide it. */
export function fmtSpan(seconds) {
  const parts = [];
  let s = seconds;
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    if (s >= n) { parts.push(t(`adm.span.${unit}`, { n: Math.floor(s / n) })); s %= n; }
  }
  return parts.join(' ') || t('adm.span.s', { n: 0 });
}

/** A clock's name in the reader's language; a referral kind's by its label. */
function clockName(key) {
  const own = t(`dl.${key}`);
  if (own !== `dl.${key}`) return own;
  const m = /^referrals\.kinds\.([a-z_]+)\.reply_s$/.exec(key);
  if (m) return t('dl.referral_kind_reply', { kind: label('ref.kind', m[1]) });
  return key;
}

export function deadlinesPanel() {
  const list = h('div', null, t('app.loading'));
  get('/admin/deadline-settings').then((r) => {
    replace(list, table(['adm.dl.clock', 'adm.dl.value', 'adm.dl.key'], ((r && r.items) || []).map((c) =>
      h('tr', { dataset: { key: c.key } }, h('td', null, clockName(c.key)), h('td', null, fmtSpan(c.seconds)),
        h('td', null, h('code', { class: 'small' }, c.key))))));
  }).catch((e) => replace(list, h('p', { class: 'error', role: 'alert' }, errorText(e))));
  return panel('deadlines', h('p', { class: 'hint' }, t('adm.dl.intro')), list);
}

export function outboxPanel() {
  const status = statusLine('outbox');
  const filter = options(h('select', { name: 'outbox_status', id: 'adm-outbox-status' }),
    [['failed', t('adm.mail.failed')], ['pending', t('adm.mail.pending')], ['sent', t('adm.mail.sent')], ['', t('adm.mail.all')]], { value: 'failed' });
  const list = h('div', null, t('app.loading'));
  const more = h('div', { class: 'form-actions' });
  let rows = [];

  async function load(cursor) {
    try {
      const r = await get(`/admin/outbox${qs({ status: filter.value, limit: 50, cursor })}`);
      rows = cursor ? rows.concat(r.items || []) : (r.items || []);
      replace(list, rows.length ? table(['adm.mail.recipient', 'adm.mail.subject', 'adm.mail.status', 'adm.mail.attempts', 'adm.mail.created', 'adm.mail.error', 'adm.actions'],
        rows.map((m) => h('tr', { dataset: { id: m.id, status: m.status } },
          h('td', null, m.recipient), h('td', null, m.subject), h('td', null, t(`adm.mail.${m.status}`)),
          h('td', null, String(m.attempts)), h('td', null, fmtTime(m.created_at)), h('td', { class: 'small' }, m.last_error || '—'),
          h('td', { class: 'row-actions' }, m.status === 'failed' ? actionButton(t('adm.mail.retry'), async () => {
            try {
              await post(`/admin/outbox/${m.id}/retry`);
              status.textContent = t('adm.mail.retried', { to: m.recipient });
              await load();
            } catch (e) { status.textContent = errorText(e); }
          }, { 'aria-label': t('adm.mail.retry_named', { subject: m.subject }) }) : '—'))))
        : h('p', { class: 'muted' }, t('adm.mail.none')));
      replace(more, r.next_cursor ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => load(r.next_cursor) }, t('adm.more')) : null);
    } catch (e) {
      replace(list, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }
  filter.addEventListener('change', () => load());
  load();
  return panel('outbox', h('p', { class: 'hint' }, t('adm.mail.intro')), status,
    h('div', { class: 'toolbar' }, field(t('adm.mail.show'), filter)), list, more);
}

export function jobsPanel() {
  const list = h('div', null, t('app.loading'));
  const load = () => get('/admin/jobs').then((r) => {
    replace(list, table(['adm.job.name', 'adm.job.schedule', 'adm.job.next', 'adm.job.last', 'adm.job.status', 'adm.job.result'],
      ((r && r.items) || []).map((j) => {
        const run = j.last_run;
        const state = !run ? 'never' : !run.finished_at ? 'running' : run.ok ? 'ok' : 'failed';
        return h('tr', { dataset: { job: j.job, state } },
          h('td', null, t(`adm.job.${j.job}`, { fallback: j.job })), h('td', null, h('code', null, j.expression)),
          h('td', null, fmtTime(j.next_run_at)), h('td', null, run ? fmtTime(run.started_at) : '—'),
          h('td', null, h('span', { class: `badge job-${state}` }, t(`adm.job.state.${state}`))), h('td', { class: 'small' }, run ? run.result : '—'));
      })));
  }).catch((e) => replace(list, h('p', { class: 'error', role: 'alert' }, errorText(e))));
  load();
  return panel('jobs', h('p', { class: 'hint' }, t('adm.job.intro')), list,
    h('div', { class: 'form-actions' }, actionButton(t('adm.job.refresh'), load)));
}
