// Referrals between agencies (issue 14): the case page's list with
// countdowns and the form to refer; the receiving unit's incoming queue
// (accept, decline, reply); the hotline's review of declined referrals;
// supervisors' overdue referrals with the urging opinion; the figures.
// Cards are rebuilt from the server's answer after every action and live
// event; the forms inside a card are per card, so nothing else is lost.
import { h, replace, field, options, checkbox } from '../dom.js';
import { t, label } from '../i18n.js';
import { get, post, errorText, qs } from '../api.js';
import {
  UNIT_ROLES, fmtTime, countdown, toast, clearErrors, showError, formError, section, debounce, regionText, unitName,
  repaintKeeping,
} from '../util.js';

export const DECLINE_REASONS = ['wrong_place', 'wrong_remit', 'duplicate', 'other'];
export const REPLY_RESULTS = ['provided', 'approved', 'rejected', 'not_eligible', 'in_progress', 'referred_on'];
const OPEN = ['sent', 'accepted'];

let kindsPromise = null;
/** The configured kinds (`GET /referral-kinds`), cached for the session. */
export function loadKinds() {
  if (!kindsPromise) {
    kindsPromise = get('/referral-kinds').then((r) => (r && r.items) || []).catch((e) => { kindsPromise = null; throw e; });
  }
  return kindsPromise;
}

const kindText = (k) => label('ref.kind', k);
const statusBadge = (s) => h('span', { class: `badge ref-status ref-${s}` }, label('ref.status', s));

function clockOf(r) {
  if (r.status === 'sent') return [t('ref.accept_due'), countdown(r.accept_due_at, { startIso: r.created_at })];
  if (r.status === 'accepted' && r.reply_due_at) return [t('ref.reply_due'), countdown(r.reply_due_at, { startIso: r.accepted_at })];
  if (r.replied_at) return [t('ref.answered'), countdown(null, { doneAt: r.replied_at, doneText: label('ref.status', r.status) })];
  return [t('ref.clock'), '—'];
}

/** Whose side the user is on: receiver, sender, urger (several may hold). */
function sides(r, me, kase) {
  const unit = me.unit_id;
  const receiver = !!unit && r.to_unit_id === unit && me.role !== 'supervisor' && me.role !== 'admin';
  const sender = me.role === 'operator' || (!!unit && UNIT_ROLES.includes(me.role)
    && (r.from_unit_id === unit || (kase && kase.assigned_unit_id === unit)));
  const urger = me.role === 'supervisor' || me.role === 'operator';
  return { receiver, sender: sender && !receiver, urger };
}

/** A small form posting to /referrals/{id}/{action}. */
function actionForm(r, action, { legend, fields, body, validate, submitText, onDone, primary }) {
  const btn = h('button', { type: 'submit', class: primary ? 'btn btn-primary' : 'btn' }, submitText);
  const form = h('form', { class: 'ref-form', novalidate: true, dataset: { action } },
    h('fieldset', null, h('legend', null, legend), fields, formError(), h('div', { class: 'form-actions' }, btn)));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (validate) { const v = validate(); if (v) { showError(form, v, v.message); return; } }
    btn.disabled = true;
    try {
      const updated = await post(`/referrals/${r.id}/${action}`, { ...body(), version: r.version });
      toast(t('ref.done'), 'success');
      form.reset(); // sent: nothing of it is carried into the repainted card
      if (onDone) onDone(updated);
    } catch (err) {
      showError(form, err, errorText(err));
      if (err.code === 'version_conflict' && onDone) onDone(null);
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

const need = (el, name) => () => (el.value.trim() ? null : { field: name, message: t('err.required') });

function receiverForms(r, onDone) {
  if (r.status === 'sent') {
    const accept = h('button', { type: 'button', class: 'btn btn-primary ref-accept', dataset: { referralId: r.id } }, t('ref.accept'));
    accept.addEventListener('click', async () => {
      accept.disabled = true;
      try { onDone(await post(`/referrals/${r.id}/accept`, { version: r.version })); toast(t('ref.done'), 'success'); } catch (err) {
        toast(errorText(err), 'error');
        accept.disabled = false;
        if (err.code === 'version_conflict') onDone(null);
      }
    });
    const code = options(h('select', { name: 'reason_code' }), DECLINE_REASONS.map((c) => [c, label('ref.reason', c)]), { placeholder: t('op.choose') });
    const reason = h('textarea', { name: 'reason', rows: 2 });
    return [h('div', { class: 'form-actions' }, accept), actionForm(r, 'decline', {
      legend: t('ref.decline'), submitText: t('ref.decline'), onDone,
      fields: [field(t('ref.decline_code'), code, { name: 'reason_code', required: true }),
        field(t('ref.decline_reason'), reason, { name: 'reason', required: true })],
      body: () => ({ reason_code: code.value, reason: reason.value.trim() }),
      validate: () => (!code.value ? { field: 'reason_code', message: t('err.required') } : need(reason, 'reason')()),
    })];
  }
  if (r.status === 'accepted') {
    const result = options(h('select', { name: 'result' }), REPLY_RESULTS.map((c) => [c, label('ref.result', c)]), { placeholder: t('op.choose') });
    const details = h('textarea', { name: 'details', rows: 3 });
    const reference = h('input', { type: 'text', name: 'reference', maxlength: 200 });
    return [actionForm(r, 'reply', {
      legend: t('ref.reply'), submitText: t('ref.reply'), onDone, primary: true,
      fields: [field(t('ref.result'), result, { name: 'result', required: true }),
        field(t('ref.details'), details, { name: 'details', required: true }),
        field(t('ref.reference'), reference, { name: 'reference' })],
      body: () => ({ result: result.value, details: details.value.trim(), ...(reference.value.trim() ? { reference: reference.value.trim() } : {}) }),
      validate: () => (!result.value ? { field: 'result', message: t('err.required') } : need(details, 'details')()),
    })];
  }
  return [];
}

function textForm(r, action, legendKey, fieldKey, name, onDone) {
  const el = h('textarea', { name, rows: 2 });
  return actionForm(r, action, {
    legend: t(legendKey), submitText: t(legendKey), onDone,
    fields: [field(t(fieldKey), el, { name, required: true })],
    body: () => ({ [name]: el.value.trim() }), validate: need(el, name),
  });
}

function caseHeader(c, r, me, onReveal) {
  const s = c.subject || {};
  const masked = (v) => typeof v === 'string' && v.includes('*');
  const canReveal = me.unit_id === r.to_unit_id && ['accepted', 'replied'].includes(r.status) && (masked(s.phone) || masked(s.id_number));
  return h('section', { class: 'ref-case', 'aria-label': t('ref.case_header') },
    h('h3', null, t('ref.case_header')),
    h('dl', { class: 'kv' },
      h('dt', null, t('case.category')), h('dd', null, label('category', c.category)),
      h('dt', null, t('case.place')), h('dd', null, regionText(c.region_code), ' ', h('span', { class: 'muted' }, c.region_code)),
      h('dt', null, t('case.summary')), h('dd', { class: 'ref-summary' }, c.summary || '—'),
      h('dt', null, t('case.name')), h('dd', { class: 'ref-subject-name' }, s.name || '—'),
      h('dt', null, t('case.phone')), h('dd', { class: 'ref-subject-phone' }, s.phone || '—'),
      h('dt', null, t('case.id_number')), h('dd', null, s.id_number || '—')),
    canReveal ? h('button', { type: 'button', class: 'btn btn-small ref-reveal', onclick: onReveal }, t('case.reveal')) : null,
    s.revealed ? h('p', { class: 'muted', role: 'status' }, t('case.revealed')) : null);
}

/**
 * One referral as a card with the actions the user may take.
 * `opts.kase` is the case when shown on the case page; `opts.onChanged`
 * is told after an action (with the updated referral, or null to reload).
 */
export function referralCard(r, me, { kase, onChanged, onReveal, compact } = {}) {
  const { receiver, sender, urger } = sides(r, me, kase);
  const [clockLabel, clock] = clockOf(r);
  const open = OPEN.includes(r.status);
  const done = (updated) => { if (onChanged) onChanged(updated); };
  const forms = [];
  if (receiver) forms.push(...receiverForms(r, done));
  if (sender && open) forms.push(textForm(r, 'withdraw', 'ref.withdraw', 'ref.withdraw_reason', 'reason', done));
  if (urger && open) forms.push(textForm(r, 'urge', 'ref.urge', 'ref.opinion', 'opinion', done));
  const reply = r.reply;
  const decline = r.decline;
  return h('article', { class: ['ref-card', r.overdue ? 'ref-overdue' : null], dataset: { referralId: r.id, status: r.status } },
    h('header', { class: 'ref-head' },
      h('h3', null, compact ? h('a', { href: `#/referral/${r.id}` }, `${r.number} · ${kindText(r.kind)}`) : `${r.number} · ${kindText(r.kind)}`),
      statusBadge(r.status), r.overdue ? [' ', h('span', { class: 'badge badge-overdue' }, t('ref.overdue'))] : null),
    h('dl', { class: 'kv' },
      h('dt', null, t('ref.case')), h('dd', null, kase ? r.case_number : h('span', null, r.case_number)),
      h('dt', null, t('ref.from')), h('dd', null, r.from_unit_name || unitName(r.from_unit_id)),
      h('dt', null, t('ref.to')), h('dd', { class: 'ref-to' }, r.to_unit_name || unitName(r.to_unit_id)),
      h('dt', null, t('ref.request')), h('dd', { class: 'pre' }, r.request),
      h('dt', null, t('ref.legal_basis')), h('dd', null, label('ref.basis', r.legal_basis),
        r.consent ? ` · ${t('ref.consent_by')}: ${r.consent.given_by} (${fmtTime(r.consent.at)})` : null),
      h('dt', null, clockLabel), h('dd', { class: 'ref-clock' }, clock),
      reply ? [h('dt', null, t('ref.reply')), h('dd', { class: 'ref-reply' }, label('ref.result', reply.result),
        reply.reference ? ` · ${reply.reference}` : '', ` · ${reply.details}`)] : null,
      decline ? [h('dt', null, t('ref.decline')), h('dd', { class: 'ref-decline' }, label('ref.reason', decline.reason_code), ` · ${decline.reason}`)] : null,
      r.withdrawal ? [h('dt', null, t('ref.withdraw')), h('dd', null, r.withdrawal.reason)] : null),
    r.urgings && r.urgings.length ? h('ul', { class: 'ref-urgings', 'aria-label': t('ref.urgings') }, r.urgings.map((u) => h('li', null,
      h('strong', null, u.automatic ? t('ref.auto') : (u.by_name || t('ref.urge'))), ` · ${fmtTime(u.at)} · `, u.opinion, ' · ',
      t('ref.urging_due'), ' ', countdown(u.reply_due_at, { startIso: u.at, doneAt: open ? null : r.replied_at })))) : null,
    r.case ? caseHeader(r.case, r, me, onReveal) : null,
    forms.length ? h('div', { class: 'ref-actions' }, forms) : null);
}

/** The case page's referral panel: the list and, for who may, the form. */
export function referralPanel(ctx, caseId) {
  const me = ctx.me;
  let kase = null;
  const list = h('div', { class: 'ref-list', id: 'case-referrals' }, h('p', { class: 'muted' }, t('app.loading')));
  const kind = h('select', { name: 'kind' });
  const request = h('textarea', { name: 'request', rows: 2 });
  const basis = options(h('select', { name: 'legal_basis' }), ['consent', 'statutory_duty', 'emergency'].map((b) => [b, label('ref.basis', b)]));
  const agreed = h('input', { type: 'checkbox', name: 'consent_yes' });
  const givenBy = h('input', { type: 'text', name: 'given_by', maxlength: 200, value: t('ref.consent_by_default') });
  const consentBox = h('div', { class: 'ref-consent', dataset: { field: 'consent' } },
    checkbox(t('ref.consent_yes'), agreed, { name: 'consent' }),
    field(t('ref.consent_by'), givenBy, { name: 'consent.given_by' }));
  const syncBasis = () => { consentBox.hidden = basis.value !== 'consent'; };
  basis.addEventListener('change', syncBasis);
  const btn = h('button', { type: 'submit', class: 'btn btn-primary' }, t('ref.submit'));
  const form = h('form', { class: 'case-form', id: 'form-refer', novalidate: true, hidden: true },
    h('fieldset', null, h('legend', null, t('ref.new')), h('p', { class: 'hint' }, t('ref.new_help')),
      field(t('ref.kind'), kind, { name: 'kind', required: true }),
      field(t('ref.request'), request, { name: 'request', required: true }),
      field(t('ref.legal_basis'), basis, { name: 'legal_basis', required: true }),
      consentBox, formError(), h('div', { class: 'form-actions' }, btn)));
  loadKinds().then((kinds) => {
    const keep = kind.value;
    options(kind, kinds.map((k) => [k.name, kindText(k.name)]), { placeholder: t('op.choose') });
    if (keep) kind.value = keep;
  }).catch(() => {});
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!kind.value) { showError(form, { field: 'kind' }, t('err.required')); return; }
    if (!request.value.trim()) { showError(form, { field: 'request' }, t('err.required')); return; }
    if (basis.value === 'consent' && (!agreed.checked || !givenBy.value.trim())) {
      showError(form, { field: 'consent' }, t('ref.consent_needed'));
      return;
    }
    btn.disabled = true;
    try {
      const body = { kind: kind.value, request: request.value.trim(), legal_basis: basis.value };
      if (basis.value === 'consent') body.consent = { given_by: givenBy.value.trim() };
      const r = await post(`/cases/${encodeURIComponent(caseId)}/referrals`, body);
      form.reset();
      givenBy.value = t('ref.consent_by_default');
      syncBasis();
      toast(t('ref.sent_ok', { number: r.number, unit: r.to_unit_name || '' }), 'success');
      await refresh();
    } catch (err) {
      showError(form, err, errorText(err));
    } finally {
      btn.disabled = false;
    }
  });
  syncBasis();

  async function refresh(c) {
    if (c) kase = c;
    if (kase) {
      const mine = kase.assigned_unit_id && kase.assigned_unit_id === me.unit_id;
      form.hidden = !(kase.status !== 'closed' && (me.role === 'operator' || (UNIT_ROLES.includes(me.role) && mine)));
    }
    try {
      const r = await get(`/referrals${qs({ case_id: caseId, limit: 200 })}`);
      const items = (r && r.items) || [];
      repaintKeeping(list, items.length ? items.map((x) => referralCard(x, me, { kase, onChanged: () => refresh(), compact: true }))
        : h('p', { class: 'muted' }, t('ref.none')));
    } catch (err) {
      replace(list, h('p', { class: 'error' }, errorText(err)));
    }
  }
  const el = h('section', { class: 'panel', 'aria-labelledby': 'case-ref-h' }, h('h2', { id: 'case-ref-h' }, t('ref.panel')), list, form);
  return { el, refresh };
}

function viewsFor(me) {
  if (me.role === 'operator') return ['review', 'all', 'overdue'];
  if (me.role === 'supervisor') return ['overdue', 'all'];
  if (me.role === 'admin') return ['all', 'overdue'];
  return ['incoming', 'outgoing'];
}

const QUERIES = {
  incoming: { direction: 'incoming' },
  outgoing: { direction: 'outgoing' },
  review: { status: 'declined' },
  overdue: { overdue: 'true' },
  all: {},
};

/** `#/referrals`: the queue of the user's side. */
export function renderReferrals(container, ctx) {
  const disposers = [];
  let alive = true;
  disposers.push(() => { alive = false; });
  const me = ctx.me;
  const views = viewsFor(me);
  const which = options(h('select', { name: 'view', id: 'ref-view' }), views.map((v) => [v, t(`ref.view.${v}`)]));
  const openOnly = h('input', { type: 'checkbox', id: 'ref-open-only', checked: true });
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const listBox = h('div', { class: 'ref-list', id: 'referral-list' }, h('p', { class: 'muted' }, t('app.loading')));
  const figures = h('div', { id: 'ref-figures' });

  async function refresh() {
    if (!alive) return;
    const q = { ...QUERIES[which.value], limit: 200 };
    if (openOnly.checked && !q.status) q.status = 'sent,accepted';
    try {
      const r = await get(`/referrals${qs(q)}`);
      const items = (r && r.items) || [];
      count.textContent = t('list.count', { n: items.length });
      repaintKeeping(listBox, items.length ? items.map((x) => referralCard(x, me, { onChanged: () => refresh(), compact: true }))
        : h('p', { class: 'muted' }, t('ref.none')));
    } catch (err) {
      replace(listBox, h('p', { class: 'error' }, errorText(err)));
    }
  }

  async function paintFigures() {
    if (!['supervisor', 'admin'].includes(me.role)) return;
    try {
      const f = await get('/reports/referrals');
      const share = f.answered_in_time_share == null ? '—' : `${Math.round(f.answered_in_time_share * 100)}%`;
      const row = (name, x) => h('tr', null, h('th', { scope: 'row' }, name), h('td', null, String(x.sent)),
        h('td', null, String(x.answered)), h('td', null, String(x.answered_in_time)), h('td', null, String(x.overdue)));
      const table = (caption, rows) => h('table', { class: 'table' }, h('caption', null, caption),
        h('thead', null, h('tr', null, ['', 'ref.fig.sent', 'ref.fig.answered', 'ref.fig.in_time', 'ref.fig.overdue']
          .map((k) => h('th', { scope: 'col' }, k ? t(k) : t('ref.fig.what'))))), h('tbody', null, rows));
      replace(figures, h('p', { class: 'stats' }, t('ref.fig.share', { p: share })),
        table(t('ref.fig.kind'), f.by_kind.map((k) => row(kindText(k.kind), k))),
        table(t('ref.fig.unit'), f.by_unit.map((u) => row(u.unit_name, u))));
    } catch (err) {
      replace(figures, h('p', { class: 'error' }, errorText(err)));
    }
  }

  const refreshSoon = debounce(refresh, 200);
  disposers.push(ctx.live.onEvent((ev) => {
    if (String(ev.event).startsWith('referral.') || ev.event === 'deadline.missed') refreshSoon();
  }));
  disposers.push(ctx.live.onFrame((f) => { if (f.type === 'hello') refreshSoon(); }));
  which.addEventListener('change', refresh);
  openOnly.addEventListener('change', refresh);
  container.append(
    h('div', { class: 'page-head' }, h('h1', null, t('ref.title'))),
    section(t('ref.list'),
      h('div', { class: 'toolbar' }, field(t('ref.view'), which, { name: 'view' }), checkbox(t('ref.open_only'), openOnly), count),
      listBox),
    ['supervisor', 'admin'].includes(me.role) ? section(t('ref.figures'), figures) : null);
  refresh();
  paintFigures();
  return () => disposers.forEach((d) => d());
}

/** `#/referral/{id}`: one referral with its case header (masked). */
export function renderReferral(container, ctx, id) {
  const disposers = [];
  const me = ctx.me;
  const box = h('div', { id: 'referral-detail' }, h('p', { class: 'muted' }, t('app.loading')));
  let shown = null; // what the card shows: a reload with nothing new repaints nothing
  let revealed = false;
  async function load(reveal) {
    if (reveal) revealed = true;
    try {
      const r = await get(`/referrals/${encodeURIComponent(id)}${revealed ? '?reveal=true' : ''}`);
      const json = JSON.stringify(r);
      if (json === shown) return;
      shown = json;
      repaintKeeping(box, referralCard(r, me, { onChanged: () => load(), onReveal: () => load(true) }));
    } catch (err) {
      replace(box, h('p', { class: 'error', role: 'alert' }, errorText(err)));
    }
  }
  const reloadSoon = debounce(() => load(), 250);
  disposers.push(ctx.live.onEvent((ev) => { if (ev.data && ev.data.referral_id === id) reloadSoon(); }));
  container.append(h('a', { href: '#/referrals', class: 'back-link' }, `← ${t('ref.back')}`),
    h('div', { class: 'page-head' }, h('h1', null, t('ref.one'))), box);
  load();
  return () => disposers.forEach((d) => d());
}
