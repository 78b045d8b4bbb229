// One person of the ledger (`#/ledger/<id>`): her details (ID number and
// phones masked; the reveal is audited and says so, and holds for that
// one read only: a save, a visit, a reload or coming back to the page
// shows them masked again, so every audited reveal is a click), flags
// and safe contact (editable, saved with the version read), visits with
// the next review date and a form to record one, and her linked cases.
import { h, field, checkbox, options, replace } from '../dom.js';
import { t, label, locale } from '../i18n.js';
import { get, api, post, errorText } from '../api.js';
import { fmtTime, regionText, section, statusBadge, toast, readsLedger, clearErrors, showError } from '../util.js';
import { FLAGS, flagBadges, safeBlock } from './ledger-box.js';
import { editForm } from './ledger-edit.js';

/** May this user change the ledger (import, visits, safe contact)? */
export const writesLedger = (me) => readsLedger(me) && me.role !== 'supervisor';

export function fmtDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale(), { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'Asia/Shanghai' }).format(d);
}

const yes = (b) => t(b ? 'lg.yes' : 'lg.no');

function details(p, onReveal) {
  const row = (key, value) => [h('dt', null, t(key)), h('dd', null, value === null || value === undefined || value === '' ? '—' : value)];
  return h('dl', { class: 'kv', id: 'lg-details' },
    row('lg.id_number', h('span', { id: 'lg-id-number' }, p.id_number || '—')),
    row('lg.phones', h('span', { id: 'lg-phones' }, (p.phones || []).join(t('p.sep')))),
    p.revealed ? null : [h('dt', null, ''), h('dd', null,
      h('button', { type: 'button', class: 'btn btn-small', id: 'lg-reveal', onclick: onReveal, 'aria-describedby': 'lg-reveal-note' }, t('lg.reveal')),
      ' ', h('span', { class: 'hint', id: 'lg-reveal-note' }, t('lg.reveal_note')))],
    p.revealed ? [h('dt', null, ''), h('dd', { class: 'hint', id: 'lg-revealed' }, t('lg.revealed'))] : null,
    row('lg.birth_date', p.birth_date),
    row('lg.village', regionText(p.village_code)),
    row('lg.husband_away_since', p.husband_away_since),
    row('lg.in_village', yes(p.in_village)),
    row('lg.source', t(`lg.source.${p.source}`, { fallback: p.source })),
    row('lg.screened', p.screened_by || p.screened_at ? t('lg.screened_line', { by: p.screened_by || '—', at: p.screened_at || '—' }) : null),
    row('lg.review_due_at', h('span', { id: 'lg-review-at' }, fmtDate(p.review_due_at),
      p.review_due ? [' ', h('span', { class: 'badge prio-high' }, t('lg.review_due_badge'))] : null)),
    row('lg.last_visit', p.last_visit_at ? fmtTime(p.last_visit_at) : t('lg.never_visited')),
    row('lg.contact_person', h('span', { id: 'lg-contact-person' }, p.contact_person ? p.contact_person.display_name : '—')));
}

/** Flags and safe contact, saved together with the version read. */
function careForm(p, save) {
  const boxes = FLAGS.map((f) => h('input', { type: 'checkbox', name: f, checked: !!(p.flags && p.flags[f]) }));
  const sc = p.safe_contact || { safe_to_call: true };
  const safe = h('input', { type: 'checkbox', name: 'safe_to_call', checked: !!sc.safe_to_call });
  const hours = h('input', { type: 'text', name: 'safe_hours', maxlength: 11, placeholder: '09:00-11:30', value: sc.safe_hours || '' });
  const noSms = h('input', { type: 'checkbox', name: 'no_sms', checked: !!sc.no_sms });
  const word = h('input', { type: 'text', name: 'code_word', maxlength: 50, value: sc.code_word || '' });
  const notes = h('textarea', { name: 'notes', rows: 2, maxlength: 500 }, sc.notes || '');
  const btn = h('button', { type: 'submit', class: 'btn btn-primary' }, t('lg.save'));
  const form = h('form', { id: 'lg-care', novalidate: true },
    h('fieldset', { class: 'disp-topics' }, h('legend', null, t('lg.flags')),
      FLAGS.map((f, i) => checkbox(t(`lg.flag.${f}`), boxes[i], { name: `flags.${f}` }))),
    h('fieldset', null, h('legend', null, t('lg.safe_edit')),
      checkbox(t('lg.safe_to_call'), safe, { name: 'safe_to_call' }),
      field(t('lg.safe_hours'), hours, { name: 'safe_hours' }),
      checkbox(t('lg.no_sms'), noSms, { name: 'no_sms' }),
      field(t('lg.code_word'), word, { name: 'code_word' }),
      field(t('lg.safe_notes'), notes, { name: 'notes' })),
    h('div', { class: 'form-actions' }, btn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    btn.disabled = true;
    try {
      await save({
        flags: Object.fromEntries(FLAGS.map((f, i) => [f, boxes[i].checked])),
        safe_contact: {
          safe_to_call: safe.checked, safe_hours: hours.value.trim() || null, no_sms: noSms.checked,
          code_word: word.value.trim() || null, notes: notes.value.trim() || null,
        },
      });
    } catch (err) {
      showError(form, err, errorText(err));
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

function localNow() {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

function visitForm(record) {
  const at = h('input', { type: 'datetime-local', name: 'at', value: localNow(), required: true });
  const kind = options(h('select', { name: 'kind' }), ['home_visit', 'phone', 'activity'].map((k) => [k, t(`lg.visit.${k}`)]));
  const notes = h('textarea', { name: 'notes', rows: 3, maxlength: 2000 });
  const btn = h('button', { type: 'submit', class: 'btn btn-primary' }, t('lg.visit_save'));
  const form = h('form', { id: 'lg-visit', novalidate: true },
    h('h3', null, t('lg.visit_new')),
    field(t('lg.visit_at'), at, { name: 'at', required: true }),
    field(t('lg.visit_kind'), kind, { name: 'kind' }),
    field(t('lg.visit_notes'), notes, { name: 'notes' }),
    h('div', { class: 'form-actions' }, btn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const when = new Date(at.value);
    if (!at.value || Number.isNaN(when.getTime())) { showError(form, { field: 'at', message: t('err.required') }); return; }
    btn.disabled = true;
    try {
      await record({ at: when.toISOString(), kind: kind.value, notes: notes.value.trim() || undefined });
    } catch (err) {
      showError(form, err, errorText(err));
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

function visitsList(visits) {
  if (!visits.length) return h('p', { class: 'muted' }, t('lg.no_visits'));
  return h('ul', { class: 'hist-list', id: 'lg-visits' }, visits.map((v) => h('li', null,
    h('strong', null, fmtTime(v.at)), ' ', t(`lg.visit.${v.kind}`, { fallback: v.kind }),
    v.notes ? [' · ', h('span', { class: 'pre' }, v.notes)] : null)));
}

function casesList(cases) {
  if (!cases.length) return h('p', { class: 'muted' }, t('lg.no_cases'));
  return h('ul', { class: 'hist-list', id: 'lg-cases' }, cases.map((c) => h('li', null,
    h('a', { href: `#/case/${c.id}`, class: 'case-link' }, c.number), ' ', label('category', c.category), ' ',
    statusBadge(c.status), ' ', h('span', { class: 'muted' }, fmtTime(c.created_at)))));
}

export function renderPerson(container, ctx, id) {
  const writes = writesLedger(ctx.me);
  const note = h('p', { class: 'route-ok', role: 'status', id: 'lg-note', hidden: true });
  let alive = true;
  const reveal = () => load(undefined, { reveal: true });

  async function load(message, { reveal: full = false } = {}) {
    let p;
    try {
      p = await get(`/ledger/persons/${encodeURIComponent(id)}${full ? '?reveal=true' : ''}`);
    } catch (err) {
      if (alive) replace(container, h('a', { href: '#/ledger', class: 'back-link' }, t('lg.back')), h('p', { class: 'error', role: 'alert' }, errorText(err)));
      return;
    }
    if (!alive) return;
    note.hidden = !message;
    note.textContent = message || '';
    const save = async (patch) => {
      try {
        await api('PATCH', `/ledger/persons/${p.id}`, { ...patch, version: p.version });
        toast(t('lg.saved'), 'success');
        load(t('lg.saved'));
      } catch (err) {
        if (err.code !== 'version_conflict') throw err;
        load(t('lg.version_conflict'));
      }
    };
    const record = async (body) => {
      await post(`/ledger/persons/${p.id}/visits`, body);
      const fresh = await get(`/ledger/persons/${p.id}`);
      toast(t('lg.visit_saved', { date: fmtDate(fresh.review_due_at) }), 'success');
      load(t('lg.visit_saved', { date: fmtDate(fresh.review_due_at) }));
    };
    replace(container,
      h('a', { href: '#/ledger', class: 'back-link' }, t('lg.back')),
      h('div', { class: 'page-head' }, h('h1', { id: 'lg-name', tabindex: -1 }, p.name),
        h('span', { class: 'case-badges' },
          p.left_behind ? h('span', { class: 'badge lg-left-behind' }, t('lg.left_behind')) : null, flagBadges(p.flags))),
      note,
      h('div', { class: 'lg-grid' },
        h('div', null,
          section(t('lg.person'), details(p, reveal)),
          writes ? section(t('lg.edit'), editForm(p, save, reveal)) : null,
          section(t('lg.care'), safeBlock(p.safe_contact), writes ? careForm(p, save) : null)),
        h('div', null,
          section(t('lg.visits'), h('p', { id: 'lg-next-review' }, t('lg.next_review', { date: fmtDate(p.review_due_at) })),
            visitsList(p.visits || []), writes ? visitForm(record) : null),
          section(t('lg.cases'), casesList(p.cases || [])))));
  }
  replace(container, h('p', { class: 'loading' }, t('app.loading')));
  load();
  return () => { alive = false; };
}
