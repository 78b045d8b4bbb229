// The operator's intake form: category and place first, then the danger
// screen (so it is a few Tab stops from the number field), then the story.
// It holds no call: operator.js owns the call and submits what body() gives.
import { h, field, checkbox, options, replace } from '../dom.js';
import { t } from '../i18n.js';
import { computeRisk, escalates, QUESTION_COUNT } from '../risk.js';
import { regionPicker } from '../region-picker.js';
import { CATEGORIES, riskBadge, keepDraft, regionChain, colon } from '../util.js';

const SCREEN_CATEGORIES = ['domestic_violence', 'safety_threat'];
export const REGION_KEY = 'lianxin.draft.intake.region';

function dangerScreen(category) {
  const inProgress = h('input', { type: 'checkbox', name: 'in_progress', id: 'ds-in-progress' });
  const answers = [];
  const qItems = [];
  for (let i = 1; i <= QUESTION_COUNT; i += 1) {
    const cb = h('input', { type: 'checkbox', name: `q${i}`, id: `ds-q${i}` });
    answers.push(cb);
    qItems.push(h('li', { class: i <= 3 ? 'q q-major' : 'q' },
      h('span', { class: 'q-no', 'aria-hidden': 'true' }, `${i}.`), cb,
      h('label', { for: cb.id }, h('span', { class: 'visually-hidden' }, `${i}. `), t(`q.${i}`))));
  }
  const concern = h('input', { type: 'checkbox', name: 'screener_concern', id: 'ds-concern' });
  const notes = h('textarea', { name: 'danger_notes', rows: 2 });
  const riskOut = h('output', { class: 'risk-out', id: 'risk-out', for: 'ds-in-progress' });
  const riskCounts = h('p', { class: 'muted risk-counts' });
  const riskWarn = h('p', { class: 'risk-warn', hidden: true }, t('op.risk_escalates'));
  const riskEcho = h('span', { class: 'risk-echo', 'aria-hidden': 'true' });
  const screen = () => ({ in_progress: inProgress.checked, answers: answers.map((a) => a.checked), screener_concern: concern.checked });
  function update() {
    const r = computeRisk(screen());
    replace(riskOut, riskBadge(r.level));
    riskOut.dataset.level = r.level;
    riskCounts.textContent = t('op.yes_count', { a: r.first, b: r.rest });
    riskWarn.hidden = !(escalates(r.level) || category.value === 'safety_threat');
    replace(riskEcho, t('op.risk_now'), riskBadge(r.level));
  }
  const el = h('fieldset', { class: 'danger', dataset: { field: 'danger_screen' } },
    h('legend', null, t('op.danger')),
    h('p', { class: 'hint' }, t('op.danger_intro')),
    h('div', { class: 'check check-strong' }, inProgress, h('label', { for: inProgress.id }, t('op.in_progress'))),
    h('ol', { class: 'questions', role: 'list' }, qItems),
    h('div', { class: 'check' }, concern, h('label', { for: concern.id }, t('op.screener_concern'))),
    field(t('op.danger_notes'), notes, { name: 'danger_screen.notes' }),
    h('div', { class: 'risk-box' },
      h('p', { class: 'rule' }, h('strong', null, colon(t('op.rule_title'))), t('op.rule')),
      h('p', { class: 'risk-line' }, h('span', null, t('op.risk_now')), riskOut),
      riskCounts, riskWarn),
    h('p', { class: 'field-error', hidden: true }));
  return { el, screen, update, notes, riskEcho };
}

function subjectFields(phoneInput) {
  const name = h('input', { name: 'subject_name', autocomplete: 'off' });
  const phone = h('input', { name: 'subject_phone', type: 'tel', autocomplete: 'off' });
  const same = h('input', { type: 'checkbox', name: 'same_phone' });
  const id = h('input', { name: 'subject_id', autocomplete: 'off', maxlength: 18 });
  const sync = () => { if (same.checked) phone.value = phoneInput.value; phone.readOnly = same.checked; };
  same.addEventListener('change', sync);
  phoneInput.addEventListener('input', () => { if (same.checked) phone.value = phoneInput.value; });
  const el = h('fieldset', { class: 'subject', dataset: { field: 'subject' } },
    h('legend', null, t('op.subject')),
    h('div', { class: 'grid-3' },
      field(t('op.subject_name'), name, { name: 'subject.name' }),
      h('div', null, field(t('op.subject_phone'), phone, { name: 'subject.phone' }), checkbox(t('op.same_phone'), same)),
      field(t('op.subject_id'), id, { name: 'subject.id_number' })));
  const value = () => {
    const s = {};
    if (name.value.trim()) s.name = name.value.trim();
    if (phone.value.trim()) s.phone = phone.value.replace(/[\s-]/g, '');
    if (id.value.trim()) s.id_number = id.value.trim();
    return s;
  };
  return { el, value, sync };
}

/** The form; `phoneInput` is the caller's number field (for "same number"). */
export function intakeForm(phoneInput) {
  const channel = options(h('select', { name: 'channel' }), ['hotline', 'walk_in', 'online', 'referral'].map((c) => [c, t(`channel.${c}`)]));
  const category = options(h('select', { name: 'category', id: 'intake-category' }),
    CATEGORIES.map((c) => [c, t(`category.${c}`)]), { placeholder: t('op.choose') });
  let restoringRegion = true; // don't overwrite the saved place while restoring it
  const picker = regionPicker({
    category: () => category.value,
    onChange: (code) => {
      if (restoringRegion) return;
      try { sessionStorage.setItem(REGION_KEY, code || ''); } catch (_) { /* ignore */ }
    },
  });
  const summary = h('input', { name: 'summary', maxlength: 200, autocomplete: 'off', id: 'intake-summary' });
  const description = h('textarea', { name: 'description', rows: 4 });
  const placeNote = h('input', { name: 'place_note', maxlength: 200, autocomplete: 'off', id: 'intake-place-note' });
  const subject = subjectFields(phoneInput);
  const priority = options(h('select', { name: 'priority' }), ['urgent', 'high', 'normal', 'low'].map((p) => [p, t(`priority.${p}`)]),
    { placeholder: t('op.priority_auto') });
  const danger = dangerScreen(category);
  const submitBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'intake-submit' }, t('op.submit'));
  const clearBtn = h('button', { type: 'button', class: 'btn btn-ghost', id: 'intake-clear' }, t('op.clear'));
  // Errors not tied to a field: a banner right above the submit button, in
  // the sticky bar, until the next submit (never a message below the fold).
  const banner = h('p', { class: 'form-error submit-banner', role: 'alert', id: 'intake-error', hidden: true });
  const form = h('form', { class: 'intake', novalidate: true, id: 'intake-form' },
    h('div', { class: 'grid-2' },
      field(t('op.channel'), channel, { name: 'channel' }),
      field(t('op.category'), category, { name: 'category', required: true })),
    picker.el,
    danger.el,
    field(t('op.summary'), summary, { name: 'summary', required: true }),
    field(t('op.place_note'), placeNote, { name: 'place_note', hint: t('op.place_note_hint') }),
    field(t('op.description'), description, { name: 'description' }),
    subject.el,
    field(t('op.priority'), priority, { name: 'priority' }),
    h('div', { class: 'form-actions sticky-actions' }, banner,
      h('div', { class: 'sticky-row' }, submitBtn, clearBtn, h('span', { class: 'muted' }, t('op.shortcut')), danger.riskEcho)));
  form.addEventListener('change', danger.update);
  category.addEventListener('change', danger.update);
  category.addEventListener('change', () => picker.refresh());
  form.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || ev.isComposing || ev.ctrlKey || ev.metaKey) return;
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

  /** Something typed or chosen: a ring must not replace it. */
  function inProgress() {
    const s = danger.screen();
    return Boolean(category.value || summary.value.trim() || description.value.trim() || placeNote.value.trim() || regionChain(picker.value()).length > 1
      || Object.keys(subject.value()).length || s.in_progress || s.screener_concern || s.answers.some(Boolean));
  }
  function body() {
    const s = danger.screen();
    const screened = SCREEN_CATEGORIES.includes(category.value) || s.in_progress || s.screener_concern || s.answers.some(Boolean);
    const out = { category: category.value, region_code: picker.value(), summary: summary.value.trim(), subject: subject.value() };
    if (description.value.trim()) out.description = description.value.trim();
    if (placeNote.value.trim()) out.place_note = placeNote.value.trim();
    if (priority.value) out.priority = priority.value;
    if (screened) out.danger_screen = { ...s, ...(danger.notes.value.trim() ? { notes: danger.notes.value.trim() } : {}) };
    return out;
  }
  /** Empty the form (and its stored draft). */
  function reset() {
    form.reset();
    draft.drop();
    picker.setValue('');
    try { sessionStorage.removeItem(REGION_KEY); } catch (_) { /* ignore */ }
    subject.sync();
    banner.hidden = true;
    danger.update();
  }
  /** Load what sessionStorage holds (after a reload or a switch of calls). */
  async function restore() {
    form.reset();
    draft.restore();
    subject.sync();
    let saved = null;
    try { saved = sessionStorage.getItem(REGION_KEY); } catch (_) { /* ignore */ }
    restoringRegion = true;
    await picker.ready;
    await picker.setValue(saved || '');
    restoringRegion = false;
    danger.update();
  }
  return {
    form, picker, category, summary, submitBtn, clearBtn, banner, channel, draft, inProgress, body, reset, restore,
    update: danger.update,
  };
}
