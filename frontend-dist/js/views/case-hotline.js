// The case page's hotline panel (issue 18): her safe contact, a follow-up
// call (the hotline or a supervisor schedules it; refused when calls are
// unsafe), extension requests (the handling unit asks; the hotline or a
// supervisor decides) and linked cases (a duplicate closed into its original).
import { h, replace, field, options, checkbox } from '../dom.js';
import './hotline-strings.js';
import { t } from '../i18n.js';
import { get, post, api, errorText } from '../api.js';
import { UNIT_ROLES, fmtTime, toast, clearErrors, showError, formError, section } from '../util.js';

const DECIDERS = ['operator', 'supervisor', 'admin'];

function contactForm(caseId, reload) {
  const safe = h('input', { type: 'checkbox', name: 'safe_to_call', checked: true });
  const hours = h('input', { type: 'text', name: 'safe_hours', maxlength: 11, placeholder: '09:00-11:30' });
  const noSms = h('input', { type: 'checkbox', name: 'no_sms' });
  const code = h('input', { type: 'text', name: 'code_word', maxlength: 50 });
  const notes = h('input', { type: 'text', name: 'notes', maxlength: 500 });
  const form = h('form', { class: 'case-form', id: 'form-contact-safety', novalidate: true },
    h('fieldset', null, h('legend', null, t('hl.contact')),
      checkbox(t('hl.safe_to_call'), safe, { name: 'safe_to_call' }),
      field(t('hl.safe_hours'), hours, { name: 'safe_hours' }),
      checkbox(t('hl.no_sms'), noSms, { name: 'no_sms' }),
      field(t('hl.code_word'), code, { name: 'code_word' }),
      field(t('hl.contact_notes'), notes, { name: 'notes' }), formError(),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn' }, t('hl.save_contact')))));
  const fill = (c) => {
    if (!c) return;
    safe.checked = !!c.safe_to_call; hours.value = c.safe_hours || ''; noSms.checked = !!c.no_sms;
    code.value = c.code_word || ''; notes.value = c.notes || '';
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const r = await api('PUT', `/cases/${caseId}/contact-safety`, {
        safe_to_call: safe.checked, safe_hours: hours.value.trim() || null, no_sms: noSms.checked,
        code_word: code.value.trim() || null, notes: notes.value.trim() || null,
      });
      fill(r.contact);
      toast(t('hl.saved'), 'success');
      reload();
    } catch (err) { showError(form, err, errorText(err)); }
  });
  return { form, fill };
}

function extensionForm(caseId, reload) {
  const until = h('input', { type: 'datetime-local', name: 'until' });
  const reason = h('textarea', { name: 'reason', rows: 2, maxlength: 2000 });
  const form = h('form', { class: 'case-form', id: 'form-extension', novalidate: true },
    h('fieldset', null, h('legend', null, t('hl.extension')),
      field(t('hl.until'), until, { name: 'until', required: true }),
      field(t('hl.reason'), reason, { name: 'reason', required: true }), formError(),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn' }, t('hl.ask')))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!until.value) { showError(form, { field: 'until' }, t('err.required')); return; }
    try {
      await post(`/cases/${caseId}/extension`, { until: new Date(until.value).toISOString(), reason: reason.value });
      form.reset();
      reload();
    } catch (err) { showError(form, err, errorText(err)); }
  });
  return form;
}

/** A follow-up call to her: warns from her safe contact; the server refuses when unsafe. */
function followUpForm(caseId, reload) {
  const at = h('input', { type: 'datetime-local', name: 'due_at' });
  const notes = h('input', { type: 'text', name: 'notes', maxlength: 2000 });
  const warn = h('div', { class: 'cb-warning', role: 'alert', hidden: true });
  const form = h('form', { class: 'case-form', id: 'form-follow-up', novalidate: true },
    h('fieldset', null, h('legend', null, t('hl.follow_up')), warn,
      field(t('hl.follow_up_at'), at, { name: 'due_at', required: true }),
      field(t('hl.follow_up_notes'), notes, { name: 'notes' }), formError(),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn' }, t('hl.schedule')))));
  const show = (c) => {
    const text = !c ? '' : (!c.safe_to_call ? t('hl.warn_unsafe') : (c.safe_hours ? t('hl.warn_hours', { hours: c.safe_hours }) : ''));
    warn.textContent = text;
    warn.hidden = !text;
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!at.value) { showError(form, { field: 'due_at' }, t('err.required')); return; }
    try {
      await post(`/cases/${caseId}/callbacks`, { due_at: new Date(at.value).toISOString(), notes: notes.value.trim() || undefined });
      form.reset();
      toast(t('hl.scheduled'), 'success');
      reload();
    } catch (err) { showError(form, err, errorText(err)); }
  });
  return { form, show };
}

function linkForm(caseId, reload) {
  const other = h('input', { type: 'text', name: 'other_case_id', maxlength: 64 });
  const kind = options(h('select', { name: 'kind' }), ['related', 'duplicate'].map((k) => [k, t(`hl.link.${k}`)]));
  const form = h('form', { class: 'case-form', id: 'form-link', novalidate: true },
    h('fieldset', null, h('legend', null, t('hl.link')),
      field(t('hl.other_case'), other, { name: 'other_case_id', required: true }),
      field(t('hl.link_kind'), kind, { name: 'kind' }), formError(),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn' }, t('hl.do_link')))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      await post(`/cases/${caseId}/link`, { other_case_id: other.value.trim(), kind: kind.value });
      form.reset();
      reload();
    } catch (err) { showError(form, err, errorText(err)); }
  });
  return form;
}

export function hotlinePanel(ctx, caseId) {
  const role = ctx.me.role;
  const extList = h('ul', { class: 'ext-list', id: 'case-extensions' });
  const linkList = h('ul', { class: 'link-list', id: 'case-links' });
  const mayContact = role === 'operator' || UNIT_ROLES.includes(role);
  async function reload() {
    try {
      const [exts, links] = await Promise.all([get(`/cases/${caseId}/extension`), get(`/cases/${caseId}/links`)]);
      replace(extList, exts.map((e) => h('li', { dataset: { status: e.status } },
        `${t(`hl.ext.${e.status}`)} · ${fmtTime(e.previous_due_at)} → ${fmtTime(e.until)} · ${e.reason} `,
        e.status === 'pending' && DECIDERS.includes(role) ? [
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => decide(e.id, 'approve') }, t('hl.approve')), ' ',
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => decide(e.id, 'refuse') }, t('hl.refuse'))] : null)));
      replace(linkList, links.length ? links.map((l) => h('li', null,
        h('a', { href: `#/case/${l.case_id}` }, l.case_number), ` · ${t(`hl.role.${l.role}`)}`)) : h('li', { class: 'muted' }, t('hl.no_links')));
    } catch (_) { /* the case page shows the case's own errors */ }
  }
  async function decide(id, what) {
    try { await post(`/extensions/${id}/${what}`, {}); reload(); } catch (err) { toast(errorText(err), 'error'); }
  }
  const contact = mayContact ? contactForm(caseId, reload) : null;
  const followUp = role === 'operator' || role === 'supervisor' ? followUpForm(caseId, reload) : null;
  const loadContact = (fill) => get(`/cases/${caseId}/contact-safety`).then((r) => {
    if (fill && contact) contact.fill(r.contact);
    if (followUp) followUp.show(r.contact);
  }).catch(() => {});
  if (contact || followUp) loadContact(true);
  const el = section(t('hl.panel'),
    contact ? contact.form : null,
    followUp ? followUp.form : null,
    h('h3', null, t('hl.extensions')), extList,
    UNIT_ROLES.includes(role) ? extensionForm(caseId, reload) : null,
    h('h3', null, t('hl.links')), linkList,
    DECIDERS.includes(role) ? linkForm(caseId, reload) : null);
  el.id = 'case-hotline';
  reload();
  return { el, reload: () => { reload(); if (followUp) loadContact(false); } };
}

/**
 * The screen pop's cases with each duplicate right after its original
 * (issue 18): `[case, isDuplicate]` pairs, the server's order otherwise.
 */
export function groupLinked(cases) {
  const ids = new Set(cases.map((c) => c.id));
  const out = [];
  for (const c of cases) {
    if (c.duplicate_of && ids.has(c.duplicate_of)) continue;
    out.push([c, false]);
    for (const d of cases) if (d.duplicate_of === c.id) out.push([d, true]);
  }
  return out;
}
