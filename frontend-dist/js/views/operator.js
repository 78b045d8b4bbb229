// Operator: the call in hand (number, screen pop, what was filed for it),
// the calls waiting beside it, the intake form and the hotline's case list.
// A ring never replaces a call in progress; each call keeps its own draft.
import { h, field, replace } from '../dom.js';
import { t, label } from '../i18n.js';
import { get, post, errorText, qs } from '../api.js';
import {
  fmtTime, riskBadge, statusBadge, toast, beep, clearErrors, showError, keepDraft, debounce, section,
  unitName, loadUnits, countdown,
} from '../util.js';
import { caseTable } from './caselist.js';
import { intakeForm, REGION_KEY } from './intake-form.js';
import { callQueuePanel, enqueueCall, takeCall } from './call-queue.js';
import { dispositionForm } from './disposition.js';
import { groupLinked } from './case-hotline.js';
import { ledgerBox, caseLedger } from './ledger-box.js';

const DRAFT_KEYS = ['lianxin.draft.intake', 'lianxin.draft.caller', REGION_KEY];
const ssGet = (k) => { try { return sessionStorage.getItem(k); } catch (_) { return null; } };
const ssSet = (k, v) => { try { if (v === null || v === undefined) sessionStorage.removeItem(k); else sessionStorage.setItem(k, v); } catch (_) { /* full */ } };

/** The caller's context: the ledger entry of a number, its cases and calls. */
export function screenPop(n, r) {
  const calls = (r && r.calls) || [];
  const cases = (r && r.cases) || [];
  const ledger = r ? r.ledger : null;
  const parts = [h('h3', null, t('op.history_for', { phone: (r && r.phone) || n }))];
  parts.push(ledgerBox(r));
  if (!calls.length && !cases.length && !ledger) parts.push(h('p', { class: 'muted' }, t('op.history_none')));
  if (cases.length) {
    parts.push(h('h4', null, t('op.cases', { n: cases.length })), h('ul', { class: 'hist-list' }, groupLinked(cases).map(([c, dup]) =>
      h('li', { class: dup ? 'hist-dup' : null }, dup ? [h('span', { class: 'badge' }, t('hl.duplicate')), ' '] : null,
        h('a', { href: `#/case/${c.id}` }, c.number || c.id), ' ', label('category', c.category), ' ',
        riskBadge(c.risk_level), ' ', statusBadge(c.status), ' ', h('span', { class: 'muted' }, fmtTime(c.created_at))))));
  }
  if (calls.length) {
    parts.push(h('h4', null, t('op.calls', { n: calls.length })), h('ul', { class: 'hist-list' }, calls.slice(0, 20).map((c) =>
      h('li', null, h('span', null, fmtTime(c.received_at)), ' ', label('channel', c.channel),
        c.summary ? [' · ', c.summary] : null))));
  }
  return parts;
}

/** What the operator tells the caller once the case is filed. */
function confirmation(created) {
  const esc = created.escalation;
  const d = created.deadlines || {};
  return h('div', { class: 'created-box' },
    h('p', { class: 'success' }, h('strong', { id: 'created-number' }, t('op.created', { number: created.number })), ' ',
      riskBadge(created.risk_level), ' ', h('a', { href: `#/case/${created.id}` }, t('op.open_case'))),
    h('dl', { class: 'kv created-kv' },
      h('dt', null, t('calls.received_by')), h('dd', { id: 'created-unit' }, unitName(created.assigned_unit_id)),
      h('dt', null, t('calls.police')), h('dd', { id: 'created-police' }, esc
        ? [unitName(esc.police_unit_id), ' · ', t('deadline.ack'), ' ', countdown(esc.ack_due_at, { startIso: esc.created_at })]
        : t('calls.no_police')),
      d.accept_due_at ? [h('dt', null, t('calls.accept_by')), h('dd', null, fmtTime(d.accept_due_at))] : null,
      d.resolve_due_at ? [h('dt', null, t('calls.resolve_by')), h('dd', null, fmtTime(d.resolve_due_at))] : null),
    caseLedger(created, (personId) => post(`/cases/${created.id}/person`, { person_id: personId })));
}

export function renderOperator(container, ctx) {
  const disposers = [];
  let alive = true;
  disposers.push(() => { alive = false; });
  let callId = null; // the call record, reused if case creation must be retried
  let callPhone = null;
  let ringingRef = null;
  let lastHistory = null;
  let filed = []; // cases filed during this call (kept on screen until it ends)

  // ---------- the call in hand ----------
  const phone = h('input', {
    name: 'caller_phone', type: 'tel', inputmode: 'tel', autocomplete: 'off', id: 'caller-phone', class: 'input-phone',
  });
  const ringing = h('div', { class: 'ringing', role: 'alert', hidden: true });
  const history = h('div', { class: 'history', id: 'caller-history', 'aria-live': 'polite' });
  const result = h('div', { class: 'result', role: 'status', 'aria-live': 'polite', id: 'intake-result' });
  const endBtn = h('button', { type: 'button', class: 'btn', id: 'end-call' }, t('calls.end'));
  const callerForm = h('form', { class: 'caller-form', novalidate: true },
    field(t('op.phone'), phone, { name: 'caller_phone', hint: t('op.phone_hint') }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn' }, t('op.lookup'))));
  const phoneDraft = keepDraft(callerForm, 'caller');
  const intake = intakeForm(phone);
  const { form } = intake;

  let lookupSeq = 0;
  async function lookup(number, { preloaded } = {}) {
    const n = (number || '').replace(/[\s-]/g, '');
    if (n.length < 3) { replace(history); lastHistory = null; return; }
    const mine = ++lookupSeq;
    if (preloaded) { lastHistory = preloaded; replace(history, ...screenPop(n, preloaded)); }
    try {
      const r = await get(`/callers/${encodeURIComponent(n)}`);
      if (mine === lookupSeq) { lastHistory = r; replace(history, ...screenPop(n, r)); }
    } catch (err) {
      if (mine === lookupSeq && !preloaded) replace(history, h('p', { class: 'error' }, errorText(err)));
    }
  }
  const debouncedLookup = debounce(() => lookup(phone.value), 250);
  phone.addEventListener('input', () => { if (phone.value.replace(/[\s-]/g, '').length >= 7) debouncedLookup(); });
  callerForm.addEventListener('submit', (ev) => { ev.preventDefault(); lookup(phone.value); intake.category.focus(); });

  const callActive = () => Boolean(phone.value.trim() || intake.inProgress() || filed.length);
  function showFiled() { replace(result, filed.map(confirmation)); endBtn.hidden = !callActive(); }

  function snapshot() {
    intake.draft.save(); phoneDraft.save();
    const s = { callId, callPhone, filed };
    DRAFT_KEYS.forEach((k) => { s[k] = ssGet(k); });
    return s;
  }
  /** Put a call in hand: a fresh ring, or one put aside with its draft. */
  async function load(c) {
    clearErrors(form);
    const d = c.draft;
    DRAFT_KEYS.forEach((k) => ssSet(k, d ? d[k] : null));
    callerForm.reset();
    phoneDraft.restore();
    if (!d) phone.value = c.phone || '';
    callId = d ? d.callId : null; callPhone = d ? d.callPhone : null; filed = d ? d.filed || [] : [];
    ringingRef = c.ref || null;
    replace(ringing, t(d ? 'calls.resumed' : 'op.ringing', { phone: phone.value }));
    ringing.hidden = false;
    showFiled();
    lookup(phone.value, { preloaded: c.history || null });
    await intake.restore();
    phone.focus();
  }
  const queue = callQueuePanel(async (key) => {
    const next = takeCall(key);
    if (!next) return;
    if (callActive()) enqueueCall({ key: `held-${Date.now()}`, ref: ringingRef, phone: phone.value, history: lastHistory, draft: snapshot() });
    await load(next);
    queue.render();
  });

  function onRing(f) {
    if (f.call_ref && f.call_ref === ringingRef) return;
    beep(3);
    if (!callActive()) { load({ ref: f.call_ref, phone: f.phone, history: f.history }); return; }
    enqueueCall({ key: f.call_ref || `ring-${Date.now()}`, ref: f.call_ref, phone: f.phone, history: f.history });
    queue.render();
    toast(t('calls.queued', { phone: f.phone || '' }), 'alert');
  }
  disposers.push(ctx.live.onFrame((f) => { if (f.type === 'call.ringing') onRing(f); }));

  /** The call is over: clear its panel (an unsent form asks first). A call
   *  that opened no case leaves the question what it came to (issue 18). */
  const lastCall = h('div', { class: 'last-call', id: 'last-call' });
  function askDisposition(ended) {
    const close = () => replace(lastCall);
    replace(lastCall, dispositionForm(ended.phone, async (body) => {
      let id = ended.callId;
      if (!id) {
        const call = await post('/calls', { caller_phone: ended.phone, channel: ended.channel, call_ref: ended.ref || undefined });
        id = call.id;
      }
      await post(`/calls/${id}/disposition`, body);
      toast(t('disp.saved'), 'success');
    }, close));
  }
  function endCall() {
    if (intake.inProgress() && !window.confirm(t('calls.end_confirm'))) return;
    const number = phone.value.replace(/[\s-]/g, '');
    if (!filed.length && number) askDisposition({ phone: number, callId, ref: ringingRef, channel: intake.channel.value });
    intake.reset();
    callerForm.reset(); phoneDraft.drop();
    callId = null; callPhone = null; ringingRef = null; filed = []; lastHistory = null;
    ringing.hidden = true;
    replace(history);
    clearErrors(form);
    showFiled();
    const first = queue.el.querySelector('.take-call');
    (first || phone).focus();
  }
  endBtn.addEventListener('click', endCall);
  intake.clearBtn.addEventListener('click', () => { intake.reset(); clearErrors(form); intake.category.focus(); });
  phone.addEventListener('input', () => { endBtn.hidden = !callActive(); });
  form.addEventListener('input', () => { endBtn.hidden = !callActive(); });

  async function ensureCall() {
    const number = phone.value.replace(/[\s-]/g, '');
    if (!number || (callId && callPhone === number)) return true;
    try {
      const call = await post('/calls', {
        caller_phone: number, channel: intake.channel.value, summary: intake.summary.value.trim() || undefined,
        call_ref: ringingRef || undefined, // the exchange's record of this call (one call, one record)
      });
      callId = call.id; callPhone = number;
      return true;
    } catch (err) {
      if (err.field !== 'caller_phone') throw err;
      showError(callerForm, err, errorText(err));
      return false;
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    clearErrors(callerForm);
    if (!intake.category.value) { showError(form, { field: 'category', message: t('err.required') }); return; }
    if (!intake.picker.value()) { showError(form, { field: 'region_code', message: t('err.required') }); return; }
    if (intake.picker.busy()) { showError(form, { field: 'region_code', message: t('op.place_loading') }); return; }
    if (!intake.summary.value.trim()) { showError(form, { field: 'summary', message: t('err.required') }); return; }
    const btn = intake.submitBtn;
    btn.disabled = true;
    btn.textContent = t('op.submitting');
    try {
      if (!(await ensureCall())) return;
      const body = intake.body();
      if (callId) body.call_id = callId;
      const created = await post('/cases', body);
      intake.reset();
      filed = [...filed, created];
      showFiled();
      toast(t('op.created', { number: created.number }), 'success');
      loadUnits().then(() => { if (alive) showFiled(); }).catch(() => {});
      lookup(phone.value);
      refreshList();
      result.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      showError(form, err, err.field ? errorText(err) : `${errorText(err)} ${t('calls.kept')}`);
      if (!err.field) toast(errorText(err), 'error');
    } finally {
      btn.disabled = false;
      btn.textContent = t('op.submit');
    }
  });

  // Ctrl+Enter submits from anywhere on the page, the number field included.
  const onKey = (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
  };
  document.addEventListener('keydown', onKey);
  disposers.push(() => document.removeEventListener('keydown', onKey));

  // ---------- hotline case list ----------
  const listBox = h('div', { id: 'hotline-cases', 'aria-live': 'off' }, h('p', { class: 'muted' }, t('app.loading')));
  async function refreshList() {
    try {
      const r = await get(`/cases${qs({ limit: 50 })}`);
      replace(listBox, caseTable((r && r.items) || []));
    } catch (err) {
      replace(listBox, h('p', { class: 'error' }, errorText(err)));
    }
  }
  const refreshSoon = debounce(() => { if (alive) refreshList(); }, 300);
  disposers.push(ctx.live.onEvent(() => refreshSoon()));
  disposers.push(ctx.live.onFrame((f) => { if (f.type === 'hello') refreshSoon(); }));

  container.append(
    h('h1', { class: 'visually-hidden' }, t('op.title')),
    h('div', { class: 'op-layout' },
      h('div', { class: 'op-left' }, queue.el,
        section(t('op.caller'), ringing, callerForm, history, result, h('div', { class: 'form-actions' }, endBtn)), lastCall),
      h('div', { class: 'op-right' }, section(t('op.form'), form))),
    section(t('op.hotline_cases'), listBox));

  // Restore a draft (after a reload, language switch or re-login).
  phoneDraft.restore();
  intake.restore();
  if (phone.value.replace(/\D/g, '').length >= 7) lookup(phone.value);
  showFiled();
  refreshList();
  phone.focus();
  if (ctx.pendingRing) { const f = ctx.pendingRing; ctx.pendingRing = null; onRing(f); }
  return () => disposers.forEach((d) => d());
}
