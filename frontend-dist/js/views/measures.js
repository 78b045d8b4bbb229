// Protective measures (issue 15): cards with their clocks — the court's
// decision, the expiry, each follow-up visit — and, for those who may,
// record / decide / violation / visit done. Used on the police board (all
// measures in scope) and on the case page (that case's measures).
import { h, replace, field, options, checkbox } from '../dom.js';
import { t, label } from '../i18n.js';
import { get, post, errorText, qs } from '../api.js';
import { fmtTime, countdown, unitName, toast, clearErrors, showError, formError, debounce } from '../util.js';

const KINDS = ['warning_letter', 'protection_order', 'shelter', 'injury_assessment'];
const TERMS = ['no_contact', 'no_harassment', 'move_out', 'other'];
const WRITERS = ['operator', 'police_liaison', 'station_worker', 'mediator', 'department'];

/** `<input type=datetime-local>` value → RFC 3339 UTC, or null. */
function isoOf(v) {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function localNow() {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

function clock(name, due, opts) {
  return h('div', { class: 'clock' }, h('span', { class: 'clock-label' }, t(name)), countdown(due, opts));
}

function decisionForm(m, done) {
  const outcome = options(h('select', { name: 'outcome' }), ['granted', 'rejected', 'withdrawn'].map((o) => [o, label('measure.outcome', o)]));
  const decided = h('input', { type: 'datetime-local', name: 'decided_at', value: localNow() });
  const expires = h('input', { type: 'datetime-local', name: 'expires_at' });
  const number = h('input', { name: 'number' });
  const form = h('form', { class: 'measure-form', novalidate: true },
    h('div', { class: 'grid-2' }, field(t('measure.outcome'), outcome, { name: 'outcome' }),
      field(t('measure.decided_at'), decided, { name: 'decided_at' }),
      field(t('measure.expires_at'), expires, { name: 'expires_at', hint: t('measure.six_months') }),
      field(t('measure.number'), number, { name: 'number' })),
    formError(), h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn' }, t('measure.decide'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      await post(`/measures/${m.id}/decision`, {
        outcome: outcome.value, decided_at: isoOf(decided.value), expires_at: isoOf(expires.value),
        number: number.value.trim() || null, version: m.version,
      });
      toast(t('measure.saved'), 'success');
      done();
    } catch (err) { showError(form, err, errorText(err)); }
  });
  return form;
}

function violationForm(m, done) {
  const notes = h('textarea', { name: 'notes', rows: 2 });
  const form = h('form', { class: 'measure-form', novalidate: true },
    field(t('measure.violation_notes'), notes, { name: 'notes', required: true }),
    formError(), h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-danger' }, t('measure.violation'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      await post(`/measures/${m.id}/violations`, { at: new Date().toISOString(), notes: notes.value.trim(), version: m.version });
      toast(t('measure.violation_saved'), 'alert');
      done();
    } catch (err) { showError(form, err, errorText(err)); }
  });
  return form;
}

function visitRow(m, v, me, canWrite, done) {
  const own = v.unit_id && v.unit_id === me.unit_id;
  const btn = (!v.done_at && (own || canWrite)) ? h('button', {
    type: 'button', class: 'btn btn-small',
    onclick: async () => {
      try {
        await post(`/measures/${m.id}/visits/${v.id}/done`, { at: new Date().toISOString() });
        toast(t('measure.saved'), 'success');
        done();
      } catch (err) { toast(errorText(err), 'error'); }
    },
  }, t('measure.visit_done')) : null;
  return h('li', { class: 'visit' }, h('strong', null, label('measure.party', v.party)), ' · ', unitName(v.unit_id), ' ',
    countdown(v.due_at, { doneAt: v.done_at }), ' ', btn);
}

function measureCard(m, me, done) {
  const canWrite = WRITERS.includes(me.role);
  const clocks = [];
  if (m.decision_due_at) clocks.push(clock('measure.decision_due', m.decision_due_at, { startIso: m.applied_at }));
  if (m.outcome === 'granted' && m.expires_at) clocks.push(clock('measure.expires', m.expires_at, { startIso: m.effective_from }));
  const pending = m.outcome === 'pending';
  return h('article', { class: `measure-card measure-${m.status}`, dataset: { measureId: m.id } },
    h('h3', null, label('measure.kind', m.kind), m.number ? ` ${m.number}` : '', ' · ',
      h('a', { href: `#/case/${m.case_id}` }, m.case_number || '')),
    h('p', null, h('span', { class: 'badge' }, label('measure.status', m.status)), m.urgent ? [' ', h('span', { class: 'badge badge-urgent' }, t('measure.urgent'))] : null),
    h('div', { class: 'esc-clocks' }, clocks),
    h('dl', { class: 'kv' },
      m.court_name ? [h('dt', null, t('measure.court')), h('dd', null, m.court_name)] : null,
      h('dt', null, t('measure.applied_at')), h('dd', null, fmtTime(m.applied_at)),
      m.decided_at ? [h('dt', null, t('measure.decided_at')), h('dd', null, fmtTime(m.decided_at))] : null,
      (m.measures || []).length ? [h('dt', null, t('measure.terms')), h('dd', null, m.measures.map((x) => label('measure.term', x)).join(t('p.sep')))] : null,
      (m.served_to || []).length ? [h('dt', null, t('measure.served_to')), h('dd', null, m.served_to.map(unitName).join(t('p.sep')))] : null,
      (m.violations || []).length ? [h('dt', null, t('measure.violations')), h('dd', null, String(m.violations.length))] : null),
    (m.visits || []).length ? h('ul', { class: 'visit-list' }, m.visits.map((v) => visitRow(m, v, me, canWrite, done))) : null,
    canWrite && pending && m.kind === 'protection_order' ? decisionForm(m, done) : null,
    canWrite && m.status === 'in_force' ? violationForm(m, done) : null);
}

function newMeasureForm(caseId, done) {
  const kind = options(h('select', { name: 'kind' }), KINDS.map((k) => [k, label('measure.kind', k)]));
  const number = h('input', { name: 'number' });
  const court = h('input', { name: 'court_name' });
  const urgent = h('input', { type: 'checkbox', name: 'urgent' });
  const terms = TERMS.map((x) => [x, h('input', { type: 'checkbox', name: `term-${x}` })]);
  const form = h('form', { class: 'measure-form', id: 'measure-new', novalidate: true },
    h('div', { class: 'grid-2' }, field(t('measure.kind'), kind, { name: 'kind' }), field(t('measure.number'), number, { name: 'number' }),
      field(t('measure.court'), court, { name: 'court_name' })),
    checkbox(t('measure.urgent'), urgent),
    h('div', { class: 'terms' }, terms.map(([x, box]) => checkbox(label('measure.term', x), box))),
    formError(), h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn' }, t('measure.record'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      await post(`/cases/${caseId}/measures`, {
        kind: kind.value, number: number.value.trim() || null, court_name: court.value.trim() || null,
        urgent: urgent.checked, measures: terms.filter(([, b]) => b.checked).map(([x]) => x),
      });
      form.reset();
      toast(t('measure.saved'), 'success');
      done();
    } catch (err) { showError(form, err, errorText(err)); }
  });
  return form;
}

/** The panel; `caseId` narrows it to one case (and adds the form). */
export function measuresPanel(ctx, { caseId } = {}) {
  const list = h('div', { class: 'measure-grid', id: caseId ? 'case-measures' : 'measure-board' });
  const empty = h('p', { class: 'muted' }, t('measure.none'));
  let alive = true;
  async function refresh() {
    if (!alive) return;
    try {
      const items = caseId ? await get(`/cases/${encodeURIComponent(caseId)}/measures`)
        : ((await get(`/measures${qs({ limit: 200 })}`)).items || []);
      replace(list, items.length ? items.map((m) => measureCard(m, ctx.me, refreshSoon)) : empty);
    } catch (err) {
      replace(list, h('p', { class: 'error' }, errorText(err)));
    }
  }
  const refreshSoon = debounce(refresh, 200);
  const off = ctx.live.onEvent((ev) => {
    const e = String(ev.event);
    if ((e.startsWith('measure.') || e === 'deadline.missed') && (!caseId || ev.case_id === caseId)) refreshSoon();
  });
  const canAdd = caseId && WRITERS.includes(ctx.me.role);
  const el = h('section', { class: 'panel', 'aria-labelledby': `measures-h-${caseId || 'all'}` },
    h('h2', { id: `measures-h-${caseId || 'all'}` }, t('measure.title')), list, canAdd ? newMeasureForm(caseId, refreshSoon) : null);
  refresh();
  return { el, refresh, dispose: () => { alive = false; off(); } };
}

/** The police's routed cases: assigned to their unit, to accept and work. */
export function routedQueue(ctx) {
  const list = h('ul', { class: 'routed-list', id: 'routed-queue' });
  let alive = true;
  async function refresh() {
    if (!alive) return;
    try {
      const r = await get(`/cases${qs({ status: 'assigned,in_progress', unit_id: ctx.me.unit_id, limit: 100 })}`);
      const items = (r && r.items) || [];
      replace(list, items.length ? items.map((c) => h('li', { dataset: { caseId: c.id } },
        h('a', { href: `#/case/${c.id}` }, c.number), ' · ', label('category', c.category), ' · ', label('status', c.status), ' ',
        c.status === 'assigned' ? h('button', {
          type: 'button', class: 'btn btn-small btn-accept',
          onclick: async () => {
            try { await post(`/cases/${c.id}/accept`, { version: c.version }); toast(t('routed.accepted', { number: c.number }), 'success'); refresh(); } catch (err) { toast(errorText(err), 'error'); }
          },
        }, t('routed.accept')) : null)) : h('li', { class: 'muted' }, t('routed.none')));
    } catch (err) { replace(list, h('li', { class: 'error' }, errorText(err))); }
  }
  const refreshSoon = debounce(refresh, 200);
  const off = ctx.live.onEvent((ev) => { if (String(ev.event).startsWith('case.')) refreshSoon(); });
  refresh();
  const el = h('section', { class: 'panel', 'aria-labelledby': 'routed-h' }, h('h2', { id: 'routed-h' }, t('routed.title')), list);
  return { el, dispose: () => { alive = false; off(); } };
}

/** A mandatory report's reporter, for the hotline and the police only (the
 *  server answers 404 to anyone else, and then nothing shows). */
export function reporterBox(ctx, caseId) {
  const box = h('div', { class: 'reporter', id: 'case-reporter' });
  if (!['operator', 'police_liaison'].includes(ctx.me.role)) return box;
  get(`/cases/${encodeURIComponent(caseId)}/reporter`).then((r) => {
    replace(box, h('section', { class: 'panel', 'aria-labelledby': 'reporter-h' },
      h('h2', { id: 'reporter-h' }, t('reporter.title')),
      h('p', { class: 'muted' }, t('reporter.confidential')),
      h('dl', { class: 'kv' },
        h('dt', null, t('reporter.org')), h('dd', null, `${label('reporter.org_type', r.org_type)} · ${r.org_name}`),
        h('dt', null, t('reporter.person')), h('dd', null, r.person || '—'),
        h('dt', null, t('reporter.phone')), h('dd', null, r.phone || '—'),
        h('dt', null, t('reporter.reported_at')), h('dd', null, fmtTime(r.reported_to_police_at)))));
  }).catch(() => {});
  return box;
}
