// Operator: incoming-call panel with the caller's history, the keyboard-first
// intake form with the live danger screen, and the hotline's case list.
import { h, field, checkbox, options, replace } from '../dom.js';
import { t, label } from '../i18n.js';
import { get, post, errorText, qs } from '../api.js';
import { computeRisk, escalates, QUESTION_COUNT } from '../risk.js';
import { regionPicker } from '../region-picker.js';
import {
  CATEGORIES, fmtTime, riskBadge, statusBadge, toast, beep, clearErrors, showError, formError,
  keepDraft, debounce, section,
} from '../util.js';
import { caseTable } from './caselist.js';

const SCREEN_CATEGORIES = ['domestic_violence', 'safety_threat'];

export function renderOperator(container, ctx) {
  const disposers = [];
  let alive = true;
  disposers.push(() => { alive = false; });
  let callId = null; // the call record, reused if case creation must be retried
  let callPhone = null;
  let ringingRef = null;

  // ---------- caller panel ----------
  const phone = h('input', {
    name: 'caller_phone', type: 'tel', inputmode: 'tel', autocomplete: 'off', id: 'caller-phone', class: 'input-phone',
  });
  const lookupBtn = h('button', { type: 'submit', class: 'btn' }, t('op.lookup'));
  const ringing = h('div', { class: 'ringing', role: 'alert', hidden: true });
  const history = h('div', { class: 'history', id: 'caller-history', 'aria-live': 'polite' });
  const callerForm = h('form', { class: 'caller-form', novalidate: true },
    field(t('op.phone'), phone, { name: 'caller_phone', hint: t('op.phone_hint') }),
    h('div', { class: 'form-actions' }, lookupBtn));

  let lookupSeq = 0;
  async function lookup(number, { preloaded } = {}) {
    const n = (number || '').replace(/[\s-]/g, '');
    if (n.length < 3) { replace(history); return; }
    const mine = ++lookupSeq;
    if (preloaded) { showHistory(n, preloaded); }
    try {
      const r = await get(`/callers/${encodeURIComponent(n)}`);
      if (mine === lookupSeq) showHistory(n, r);
    } catch (err) {
      if (mine === lookupSeq && !preloaded) replace(history, h('p', { class: 'error' }, errorText(err)));
    }
  }

  function showHistory(n, r) {
    const calls = (r && r.calls) || [];
    const cases = (r && r.cases) || [];
    const ledger = r ? r.ledger : null;
    const parts = [h('h3', null, t('op.history_for', { phone: (r && r.phone) || n }))];
    if (!calls.length && !cases.length && !ledger) parts.push(h('p', { class: 'muted' }, t('op.history_none')));
    if (ledger) {
      parts.push(h('div', { class: 'ledger' }, h('h4', null, t('op.ledger')),
        h('dl', { class: 'kv' }, Object.entries(ledger).filter(([k]) => k !== 'id' && k !== 'phone').flatMap(([k, v]) => [
          h('dt', null, t(`ledger.${k}`, { fallback: k })),
          h('dd', null, typeof v === 'boolean' ? t(v ? 'op.yes' : 'op.no')
            : (v === null || v === undefined ? '—' : (typeof v === 'object' ? JSON.stringify(v) : String(v)))),
        ]))));
    } else if (calls.length || cases.length) {
      parts.push(h('p', { class: 'muted' }, t('op.ledger_none')));
    }
    if (cases.length) {
      parts.push(h('h4', null, t('op.cases', { n: cases.length })), h('ul', { class: 'hist-list' }, cases.map((c) =>
        h('li', null, h('a', { href: `#/case/${c.id}` }, c.number || c.id), ' ', label('category', c.category), ' ',
          riskBadge(c.risk_level), ' ', statusBadge(c.status), ' ', h('span', { class: 'muted' }, fmtTime(c.created_at))))));
    }
    if (calls.length) {
      parts.push(h('h4', null, t('op.calls', { n: calls.length })), h('ul', { class: 'hist-list' }, calls.slice(0, 20).map((c) =>
        h('li', null, h('span', null, fmtTime(c.received_at)), ' ', label('channel', c.channel),
          c.summary ? [' · ', c.summary] : null))));
    }
    replace(history, ...parts);
  }

  const debouncedLookup = debounce(() => lookup(phone.value), 250);
  phone.addEventListener('input', () => {
    const n = phone.value.replace(/[\s-]/g, '');
    if (n.length >= 7) debouncedLookup();
    if (sameAsCaller.checked) subjPhone.value = phone.value;
  });
  callerForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    lookup(phone.value);
    category.focus();
  });

  // Screen pop pushed by the telephone exchange.
  function onRing(f) {
    ringingRef = f.call_ref || null;
    replace(ringing, t('op.ringing', { phone: f.phone || '' }));
    ringing.hidden = false;
    beep(3);
    if (f.phone) {
      phone.value = f.phone;
      phone.dispatchEvent(new Event('change', { bubbles: true }));
      lookup(f.phone, { preloaded: f.history || null });
    }
    phone.focus();
  }
  disposers.push(ctx.live.onFrame((f) => { if (f.type === 'call.ringing') onRing(f); }));

  // ---------- intake form ----------
  const channel = options(h('select', { name: 'channel' }), ['hotline', 'walk_in', 'online', 'referral'].map((c) => [c, t(`channel.${c}`)]));
  const category = options(h('select', { name: 'category', id: 'intake-category' }),
    CATEGORIES.map((c) => [c, t(`category.${c}`)]), { placeholder: t('op.choose') });
  let restoringRegion = true; // don't overwrite the saved place while restoring it
  const picker = regionPicker({
    onChange: (code) => {
      if (restoringRegion) return;
      try { sessionStorage.setItem('lianxin.draft.intake.region', code || ''); } catch (_) { /* ignore */ }
    },
  });
  const summary = h('input', { name: 'summary', maxlength: 200, autocomplete: 'off', id: 'intake-summary' });
  const description = h('textarea', { name: 'description', rows: 4 });
  const subjName = h('input', { name: 'subject_name', autocomplete: 'off' });
  const subjPhone = h('input', { name: 'subject_phone', type: 'tel', autocomplete: 'off' });
  const sameAsCaller = h('input', { type: 'checkbox', name: 'same_phone' });
  const subjId = h('input', { name: 'subject_id', autocomplete: 'off', maxlength: 18 });
  const priority = options(h('select', { name: 'priority' }), ['urgent', 'high', 'normal', 'low'].map((p) => [p, t(`priority.${p}`)]),
    { placeholder: t('op.priority_auto') });
  sameAsCaller.addEventListener('change', () => {
    if (sameAsCaller.checked) subjPhone.value = phone.value;
    subjPhone.readOnly = sameAsCaller.checked;
  });

  const inProgress = h('input', { type: 'checkbox', name: 'in_progress', id: 'ds-in-progress' });
  const answers = [];
  const qItems = [];
  for (let i = 1; i <= QUESTION_COUNT; i += 1) {
    const cb = h('input', { type: 'checkbox', name: `q${i}`, id: `ds-q${i}` });
    answers.push(cb);
    qItems.push(h('li', { class: i <= 3 ? 'q q-major' : 'q' },
      h('span', { class: 'q-no', 'aria-hidden': 'true' }, `${i}.`),
      cb,
      h('label', { for: cb.id }, h('span', { class: 'visually-hidden' }, `${i}. `), t(`q.${i}`))));
  }
  const concern = h('input', { type: 'checkbox', name: 'screener_concern', id: 'ds-concern' });
  const dsNotes = h('textarea', { name: 'danger_notes', rows: 2 });
  const riskOut = h('output', { class: 'risk-out', id: 'risk-out', for: 'ds-in-progress' });
  const riskCounts = h('p', { class: 'muted risk-counts' });
  const riskWarn = h('p', { class: 'risk-warn', hidden: true }, t('op.risk_escalates'));
  const riskEcho = h('span', { class: 'risk-echo', 'aria-hidden': 'true' });

  function screen() {
    return { in_progress: inProgress.checked, answers: answers.map((a) => a.checked), screener_concern: concern.checked };
  }
  function updateRisk() {
    const r = computeRisk(screen());
    replace(riskOut, riskBadge(r.level));
    riskOut.dataset.level = r.level;
    riskCounts.textContent = t('op.yes_count', { a: r.first, b: r.rest });
    riskWarn.hidden = !(escalates(r.level) || category.value === 'safety_threat');
    replace(riskEcho, t('op.risk_now'), riskBadge(r.level));
  }

  const dangerSet = h('fieldset', { class: 'danger', dataset: { field: 'danger_screen' } },
    h('legend', null, t('op.danger')),
    h('p', { class: 'hint' }, t('op.danger_intro')),
    h('div', { class: 'check check-strong' }, inProgress, h('label', { for: inProgress.id }, t('op.in_progress'))),
    h('ol', { class: 'questions', role: 'list' }, qItems),
    h('div', { class: 'check' }, concern, h('label', { for: concern.id }, t('op.screener_concern'))),
    field(t('op.danger_notes'), dsNotes, { name: 'danger_screen.notes' }),
    h('div', { class: 'risk-box' },
      h('p', { class: 'rule' }, h('strong', null, `${t('op.rule_title')}：`), t('op.rule')),
      h('p', { class: 'risk-line' }, h('span', null, t('op.risk_now')), riskOut),
      riskCounts, riskWarn),
    h('p', { class: 'field-error', hidden: true }));

  const submitBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'intake-submit' }, t('op.submit'));
  const clearBtn = h('button', { type: 'button', class: 'btn btn-ghost' }, t('op.clear'));
  const result = h('div', { class: 'result', role: 'status', 'aria-live': 'polite', id: 'intake-result' });

  const form = h('form', { class: 'intake', novalidate: true, id: 'intake-form' },
    result,
    h('div', { class: 'grid-2' },
      field(t('op.channel'), channel, { name: 'channel' }),
      field(t('op.category'), category, { name: 'category', required: true })),
    picker.el,
    field(t('op.summary'), summary, { name: 'summary', required: true }),
    field(t('op.description'), description, { name: 'description' }),
    h('fieldset', { class: 'subject', dataset: { field: 'subject' } },
      h('legend', null, t('op.subject')),
      h('div', { class: 'grid-3' },
        field(t('op.subject_name'), subjName, { name: 'subject.name' }),
        h('div', null, field(t('op.subject_phone'), subjPhone, { name: 'subject.phone' }), checkbox(t('op.same_phone'), sameAsCaller)),
        field(t('op.subject_id'), subjId, { name: 'subject.id_number' }))),
    dangerSet,
    field(t('op.priority'), priority, { name: 'priority' }),
    formError(),
    h('div', { class: 'form-actions sticky-actions' }, submitBtn, clearBtn, h('span', { class: 'muted' }, t('op.shortcut')), riskEcho));

  form.addEventListener('change', updateRisk);
  form.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || ev.isComposing) return;
    if (ev.ctrlKey || ev.metaKey) { ev.preventDefault(); form.requestSubmit(); return; }
    // Enter in a one-line field moves on instead of submitting half a form
    // (a call taker types fast; only Ctrl+Enter or the button submits).
    if (ev.target.tagName === 'INPUT') {
      ev.preventDefault();
      const order = [...form.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
        .filter((el) => !el.disabled && !el.readOnly && el.offsetParent !== null);
      const next = order[order.indexOf(ev.target) + 1];
      if (next) next.focus();
    }
  });

  const draft = keepDraft(form, 'intake');
  const phoneDraft = keepDraft(callerForm, 'caller');

  function resetForm() {
    form.reset();
    callerForm.reset();
    draft.drop();
    phoneDraft.drop();
    picker.setValue('');
    try { sessionStorage.removeItem('lianxin.draft.intake.region'); } catch (_) { /* ignore */ }
    subjPhone.readOnly = false;
    callId = null; callPhone = null; ringingRef = null;
    ringing.hidden = true;
    replace(history);
    clearErrors(form);
    updateRisk();
  }
  clearBtn.addEventListener('click', () => { resetForm(); replace(result); phone.focus(); });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    replace(result);
    if (!category.value) { showError(form, { field: 'category', message: t('err.required') }); return; }
    if (!picker.value()) { showError(form, { field: 'region_code', message: t('err.required') }); return; }
    if (!summary.value.trim()) { showError(form, { field: 'summary', message: t('err.required') }); return; }
    submitBtn.disabled = true;
    submitBtn.textContent = t('op.submitting');
    try {
      const number = phone.value.replace(/[\s-]/g, '');
      if (number && (!callId || callPhone !== number)) {
        try {
          const call = await post('/calls', { caller_phone: number, channel: channel.value, summary: summary.value.trim() || undefined });
          callId = call.id; callPhone = number;
        } catch (err) {
          if (err.field === 'caller_phone') {
            const slot = callerForm.querySelector('.field-error');
            slot.textContent = errorText(err); slot.hidden = false;
            phone.setAttribute('aria-invalid', 'true');
            phone.focus();
            return;
          }
          throw err;
        }
      }
      const s = screen();
      const screened = SCREEN_CATEGORIES.includes(category.value) || s.in_progress || s.screener_concern || s.answers.some(Boolean);
      const subject = {};
      if (subjName.value.trim()) subject.name = subjName.value.trim();
      if (subjPhone.value.trim()) subject.phone = subjPhone.value.replace(/[\s-]/g, '');
      if (subjId.value.trim()) subject.id_number = subjId.value.trim();
      const body = {
        category: category.value,
        region_code: picker.value(),
        summary: summary.value.trim(),
        subject,
      };
      if (callId) body.call_id = callId;
      if (description.value.trim()) body.description = description.value.trim();
      if (priority.value) body.priority = priority.value;
      if (screened) body.danger_screen = { ...s, ...(dsNotes.value.trim() ? { notes: dsNotes.value.trim() } : {}) };
      const created = await post('/cases', body);
      resetForm();
      replace(result, h('p', { class: 'success' }, h('strong', { id: 'created-number' }, t('op.created', { number: created.number })), ' ',
        riskBadge(created.risk_level), ' ', h('a', { href: `#/case/${created.id}` }, t('op.open_case'))));
      toast(t('op.created', { number: created.number }), 'success');
      refreshList();
      window.scrollTo(0, 0);
      phone.focus();
    } catch (err) {
      showError(form, err, errorText(err));
    } finally {
      submitBtn.disabled = false;
      submitBtn.textContent = t('op.submit');
    }
  });

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
      h('div', { class: 'op-left' },
        section(t('op.caller'), ringing, callerForm, history)),
      h('div', { class: 'op-right' },
        section(t('op.form'), form))),
    section(t('op.hotline_cases'), listBox));

  // Restore a draft (after a reload, language switch or re-login).
  phoneDraft.restore();
  const restored = draft.restore();
  if (restored) subjPhone.readOnly = sameAsCaller.checked;
  let savedRegion = null;
  try { savedRegion = sessionStorage.getItem('lianxin.draft.intake.region'); } catch (_) { /* ignore */ }
  picker.ready.then(async () => {
    if (savedRegion) await picker.setValue(savedRegion);
    restoringRegion = false;
  });
  if (phone.value.replace(/\D/g, '').length >= 7) lookup(phone.value);
  category.addEventListener('change', updateRisk);
  updateRisk();
  refreshList();
  phone.focus();
  if (ctx.pendingRing) { const f = ctx.pendingRing; ctx.pendingRing = null; onRing(f); }

  return () => disposers.forEach((d) => d());
}
