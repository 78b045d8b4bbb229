// The hotline's callback queue (issue 18): missed calls first, then by due
// time. Before an attempt the operator sees her safe contact: unsafe, or
// outside her safe hours, asks for an explicit confirmation. Supervisors
// read their region's callbacks without the forms.
import { h, replace, field, options, checkbox } from '../dom.js';
import './hotline-strings.js';
import { t } from '../i18n.js';
import { get, post, errorText, qs } from '../api.js';
import { fmtTime, toast, clearErrors, showError, formError, section, debounce } from '../util.js';

function warning(cb) {
  const c = cb.contact;
  if (!c) return null;
  const lines = [];
  if (!c.safe_to_call) lines.push(t('cb.warn_unsafe'));
  else if (!c.may_call_now && c.safe_hours) lines.push(t('cb.warn_hours', { hours: c.safe_hours }));
  if (!lines.length) return null;
  return h('div', { class: 'cb-warning', role: 'alert' }, lines.map((l) => h('p', null, l)));
}

function attemptForm(cb, done) {
  const reached = h('input', { type: 'checkbox', name: 'reached' });
  const safe = h('input', { type: 'checkbox', name: 'safe_to_talk' });
  const notes = h('input', { type: 'text', name: 'notes', maxlength: 2000 });
  const warn = warning(cb);
  const confirm = h('input', { type: 'checkbox', name: 'confirm_risk' });
  const btn = h('button', { type: 'submit', class: 'btn' }, t('cb.save_attempt'));
  const form = h('form', { class: 'case-form cb-attempt', novalidate: true },
    h('fieldset', null, h('legend', null, t('cb.attempt')),
      warn, warn ? checkbox(t('cb.warn_confirm'), confirm, { name: 'confirm_risk' }) : null,
      checkbox(t('cb.reached'), reached, { name: 'reached' }),
      checkbox(t('cb.safe_to_talk'), safe, { name: 'safe_to_talk' }),
      field(t('cb.notes'), notes, { name: 'notes' }), formError(),
      h('div', { class: 'form-actions' }, btn)));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (warn && !confirm.checked) { showError(form, {}, t('cb.warn_confirm')); confirm.focus(); return; }
    btn.disabled = true;
    try {
      await post(`/callbacks/${cb.id}/attempts`, {
        reached: reached.checked, safe_to_talk: reached.checked ? safe.checked : undefined,
        notes: notes.value.trim() || undefined, version: cb.version,
      });
      toast(t('cb.done'), 'success');
      done();
    } catch (err) { showError(form, err, errorText(err)); } finally { btn.disabled = false; }
  });
  return form;
}

function resultForm(cb, done) {
  const sat = options(h('select', { name: 'satisfaction' }),
    ['satisfied', 'basically_satisfied', 'unsatisfied', 'declined'].map((s) => [s, t(`cb.sat.${s}`)]), { placeholder: '—' });
  const reason = options(h('select', { name: 'reason' }),
    ['handling', 'policy', 'other'].map((r) => [r, t(`cb.reason.${r}`)]), { placeholder: '—' });
  const reasonField = field(t('cb.reason'), reason, { name: 'reason' });
  reasonField.hidden = true;
  sat.addEventListener('change', () => { reasonField.hidden = sat.value !== 'unsatisfied'; });
  const notes = h('input', { type: 'text', name: 'notes', maxlength: 2000 });
  const btn = h('button', { type: 'submit', class: 'btn btn-primary' }, t('cb.save_result'));
  const isSat = cb.kind === 'satisfaction';
  const form = h('form', { class: 'case-form cb-result', novalidate: true },
    h('fieldset', null, h('legend', null, t('cb.result')),
      isSat ? field(t('cb.satisfaction'), sat, { name: 'satisfaction', required: true }) : null,
      isSat ? reasonField : null,
      field(t('cb.notes'), notes, { name: 'notes' }), formError(),
      h('div', { class: 'form-actions' }, btn)));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    btn.disabled = true;
    try {
      const body = { notes: notes.value.trim() || undefined, version: cb.version };
      if (isSat) { body.satisfaction = sat.value || undefined; body.reason = (sat.value === 'unsatisfied' && reason.value) || undefined; }
      await post(`/callbacks/${cb.id}/result`, body);
      toast(body.reason === 'handling' ? t('cb.reopened') : t('cb.done'), 'success');
      done();
    } catch (err) { showError(form, err, errorText(err)); } finally { btn.disabled = false; }
  });
  return form;
}

function card(cb, reload, readOnly) {
  const phone = h('span', { class: 'cb-phone' }, cb.phone || '—');
  const reveal = h('button', { type: 'button', class: 'btn btn-small' }, t('cb.reveal'));
  reveal.addEventListener('click', async () => {
    try {
      const full = await get(`/callbacks/${cb.id}?reveal=true`);
      phone.textContent = full.phone || '—';
      if (full.contact && full.contact.code_word) phone.after(' ', h('span', { class: 'cb-code' }, `${t('cb.code_word')}：${full.contact.code_word}`));
      reveal.remove();
    } catch (err) { toast(errorText(err), 'error'); }
  });
  const c = cb.contact;
  return h('li', { class: `cb-item cb-${cb.kind}${cb.overdue ? ' cb-overdue' : ''}`, dataset: { kind: cb.kind, id: cb.id } },
    h('div', { class: 'cb-head' },
      h('strong', null, t(`cb.kind.${cb.kind}`)), ' ',
      cb.case_number ? h('a', { href: `#/case/${cb.case_id}` }, `${t('cb.case')} ${cb.case_number}`) : null, ' ',
      h('span', null, `${t('cb.due')} ${fmtTime(cb.due_at)}`),
      cb.overdue ? [' ', h('span', { class: 'badge badge-overdue' }, t('cb.overdue'))] : null, ' ',
      h('span', { class: 'muted' }, t('cb.attempts', { n: cb.attempts.length }))),
    h('div', { class: 'cb-contact' }, `${t('cb.phone')}：`, phone, ' ', readOnly ? null : reveal,
      c && c.no_sms ? [' ', h('span', { class: 'badge' }, t('cb.no_sms'))] : null),
    cb.notes ? h('p', { class: 'cb-notes' }, `${t('cb.notes_for')}：${cb.notes}`) : null,
    readOnly ? warning(cb) : h('div', { class: 'cb-forms' }, attemptForm(cb, reload), resultForm(cb, reload)));
}

export function renderCallbacks(container, ctx) {
  const readOnly = ctx.me.role === 'supervisor';
  // The list holds callbacks only; loading, empty and errors are said beside it.
  const list = h('ol', { class: 'cb-list', id: 'callback-queue' });
  const status = h('p', { class: 'muted', role: 'status' }, t('app.loading'));
  async function load() {
    try {
      const r = await get(`/callbacks${qs({ status: 'open', limit: 100 })}`);
      const items = (r && r.items) || [];
      replace(list, items.map((cb) => card(cb, load, readOnly)));
      status.className = 'muted';
      status.textContent = items.length ? '' : t('cb.empty');
    } catch (err) { status.className = 'error'; status.textContent = errorText(err); }
  }
  const soon = debounce(load, 500);
  const off = ctx.live.onEvent((e) => { if (String(e.event || '').startsWith('callback.')) soon(); });
  container.append(h('h1', null, t('cb.title')), section(t('cb.title'), h('p', { class: 'hint' }, t(readOnly ? 'cb.readonly' : 'cb.help')), status, list));
  load();
  return () => off();
}
