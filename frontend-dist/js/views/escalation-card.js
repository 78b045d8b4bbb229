// One escalation: deadlines with live countdowns, and — for the police —
// acknowledge in one click, record actions, resolve. The card is built once
// and updated in place, so text typed into its forms survives live updates.
import { h, replace, field, options, checkbox } from '../dom.js';
import { t, label } from '../i18n.js';
import { post, errorText } from '../api.js';
import {
  ACTION_KINDS, fmtTime, countdown, urgencyBadge, escStatusBadge, unitName, toast,
  clearErrors, showError, formError, keepDraft, regionText,
} from '../util.js';
import { refreshAlerts } from '../alerts.js';

/** The server writes automatic reasons in English ("danger screen: high"). */
export function reasonText(reason) {
  if (!reason) return '—';
  const m = /^danger screen: (\w+)$/.exec(reason);
  if (m) return t('esc.reason.screen', { risk: label('risk', m[1]) });
  if (reason === 'category: safety_threat') return t('esc.reason.threat');
  const r = /^risk raised to (\w+): ([\s\S]*)$/.exec(reason);
  if (r) return t('esc.reason.risk', { risk: label('risk', r[1]), why: r[2] });
  return reason;
}

/** A pending escalation whose next raise is a clock of its own (not the first acknowledgement's). */
const raisedAgain = (e) => e.status === 'pending' && e.next_raise_at && e.next_raise_at !== e.ack_due_at;

export function escalationCard(initial, { canAct, onChanged, headingLevel = 'h3', role: ctx110 } = {}) {
  let esc = initial;
  const head = h(headingLevel, { class: 'esc-title' });
  const badges = h('div', { class: 'esc-badges' });
  const info = h('dl', { class: 'kv esc-info' });
  const clocks = h('div', { class: 'esc-clocks' });
  const actionsList = h('div', { class: 'esc-actions' });
  const controls = h('div', { class: 'esc-controls' });
  const ackSlot = h('div', { class: 'ack-slot' });
  // The acknowledge button sits right under the clocks: one click, first thing.
  const card = h('article', { class: 'esc-card', dataset: { escId: esc.id } }, head, badges, clocks, ackSlot, info, actionsList, controls);

  // --- acknowledge: one click ---
  const ackBtn = h('button', { type: 'button', class: 'btn btn-primary btn-ack', dataset: { escId: esc.id } }, t('board.ack'));
  const ackError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  ackBtn.addEventListener('click', async () => {
    ackBtn.disabled = true;
    ackError.hidden = true;
    try {
      const r = await post(`/escalations/${esc.id}/acknowledge`, { version: esc.version });
      toast(t('board.acked', { number: esc.case_number || '' }), 'success');
      refreshAlerts();
      if (r && r.id) update(r);
      if (onChanged) onChanged();
    } catch (err) {
      ackError.textContent = errorText(err);
      ackError.hidden = false;
      if (onChanged) onChanged();
    } finally {
      ackBtn.disabled = false;
    }
  });

  // --- record an action ---
  // No default action: a stray click must not record "police dispatched".
  const kind = options(h('select', { name: 'kind' }), ACTION_KINDS.map((k) => [k, t(`action.${k}`)]), { placeholder: t('op.choose') });
  const notes = h('textarea', { name: 'notes', rows: 2 });
  const number = h('input', { name: 'number' });
  const numberField = field(t('measure.warning_number'), number, { name: 'number' });
  const syncNumber = () => { numberField.hidden = kind.value !== 'warning_issued'; };
  // The record button asks first, naming the action: "记录「已出警」？"
  const confirmText = h('span', { class: 'confirm-text' });
  const confirmBtn = h('button', { type: 'button', class: 'btn btn-primary btn-confirm-action' }, t('esc.confirm_yes'));
  const cancelBtn = h('button', { type: 'button', class: 'btn btn-ghost' }, t('esc.confirm_no'));
  const confirmRow = h('div', { class: 'confirm-row', role: 'alert', hidden: true }, confirmText, confirmBtn, cancelBtn);
  const recordBtn = h('button', { type: 'submit', class: 'btn' }, t('board.record'));
  const unconfirm = () => { confirmRow.hidden = true; recordBtn.hidden = false; };
  kind.addEventListener('change', () => { syncNumber(); unconfirm(); });
  cancelBtn.addEventListener('click', () => { unconfirm(); kind.focus(); });
  const actionForm = h('form', { class: 'esc-form', novalidate: true },
    h('div', { class: 'grid-2' }, field(t('board.action_kind'), kind, { name: 'kind', required: true }), field(t('board.action_notes'), notes, { name: 'notes' }), numberField),
    formError(),
    h('div', { class: 'form-actions' }, recordBtn, confirmRow));
  const actionDraft = keepDraft(actionForm, `esc-action-${esc.id}`);
  actionDraft.restore();
  actionForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(actionForm);
    if (!kind.value) { showError(actionForm, { field: 'kind', message: t('err.required') }); return; }
    confirmText.textContent = t('esc.confirm_action', { action: label('action', kind.value) });
    recordBtn.hidden = true;
    confirmRow.hidden = false;
    confirmBtn.focus();
  });
  confirmBtn.addEventListener('click', async () => {
    unconfirm();
    try {
      const body = { kind: kind.value, notes: notes.value.trim(), version: esc.version };
      if (kind.value === 'warning_issued' && number.value.trim()) body.number = number.value.trim();
      const r = await post(`/escalations/${esc.id}/actions`, body);
      actionForm.reset();
      actionDraft.drop();
      syncNumber();
      toast(t('board.recorded'), 'success');
      if (r && r.id) update(r);
      if (onChanged) onChanged();
    } catch (err) {
      showError(actionForm, err, errorText(err));
      if (err.code === 'version_conflict' && onChanged) onChanged();
    }
  });

  // --- resolve ---
  const summary = h('textarea', { name: 'summary', rows: 2 });
  const resolveForm = h('form', { class: 'esc-form', novalidate: true },
    field(t('board.summary'), summary, { name: 'summary', required: true }),
    formError(),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn' }, t('board.resolve'))));
  const resolveDraft = keepDraft(resolveForm, `esc-resolve-${esc.id}`);
  resolveDraft.restore();
  resolveForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(resolveForm);
    if (!summary.value.trim()) { showError(resolveForm, { field: 'summary', message: t('err.required') }); return; }
    try {
      const r = await post(`/escalations/${esc.id}/resolve`, { summary: summary.value.trim(), version: esc.version });
      resolveForm.reset();
      resolveDraft.drop();
      toast(t('board.resolved'), 'success');
      if (r && r.id) update(r);
      if (onChanged) onChanged();
    } catch (err) {
      showError(resolveForm, err, errorText(err));
      if (err.code === 'version_conflict' && onChanged) onChanged();
    }
  });

  // --- the 110 reference: police who work it, or the operator (who may
  // also record that she called 110 herself) ---
  const ref = h('input', { name: 'external_ref', maxlength: 64 });
  const called = h('input', { type: 'checkbox', name: 'reported_to_110' });
  const operator = ctx110 === 'operator';
  const refForm = h('form', { class: 'esc-form esc-110', novalidate: true },
    field(t('esc.external_ref'), ref, { name: 'external_ref' }),
    operator ? checkbox(t('esc.reported_to_110'), called) : null,
    formError(), h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn' }, t('esc.save_ref'))));
  refForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(refForm);
    try {
      const r = operator && called.checked
        ? await post(`/escalations/${esc.id}/reported-to-110`, { external_ref: ref.value.trim() || null, version: esc.version })
        : await post(`/escalations/${esc.id}/external-ref`, { external_ref: ref.value.trim(), version: esc.version });
      toast(t('esc.ref_saved'), 'success');
      if (r && r.id) update(r);
      if (onChanged) onChanged();
    } catch (err) { showError(refForm, err, errorText(err)); }
  });

  if (canAct) {
    ackSlot.append(h('div', { class: 'ack-row' }, ackBtn, ackError));
    controls.append(actionForm, resolveForm);
  }
  if (canAct || operator) controls.append(refForm);

  let caseInfo = null;
  function setCase(c) { caseInfo = c; update(esc); }

  function update(next) {
    esc = next;
    card.dataset.status = esc.status;
    card.className = `esc-card esc-${esc.status} urgency-${esc.urgency}`;
    replace(head, esc.case_id ? h('a', { href: `#/case/${esc.case_id}` }, esc.case_number || esc.case_id.slice(0, 8)) : (esc.case_number || ''));
    replace(badges, urgencyBadge(esc.urgency), ' ', escStatusBadge(esc.status), ' ',
      h('span', { class: 'badge level' }, label('esc.level', esc.level)));
    const actions = esc.actions || [];
    replace(clocks,
      h('div', { class: 'clock' }, h('span', { class: 'clock-label' }, t('deadline.ack')),
        countdown(esc.ack_due_at, { startIso: esc.created_at, doneAt: esc.acknowledged_at, urgent: esc.urgency === 'imminent' })),
      raisedAgain(esc) ? h('div', { class: 'clock clock-raise' }, h('span', { class: 'clock-label' }, t('esc.next_raise')),
        countdown(esc.next_raise_at, { urgent: true })) : null,
      h('div', { class: 'clock' }, h('span', { class: 'clock-label' }, t('deadline.action')),
        countdown(esc.action_due_at, { startIso: esc.acknowledged_at || esc.created_at, doneAt: esc.first_action_at || (actions.length ? actions[0].at : null) || esc.resolved_at || null })));
    replace(info,
      h('dt', null, t('board.reason')), h('dd', null, reasonText(esc.reason)),
      esc.level > 1 ? [h('dt', null, t('esc.raised_title')), h('dd', { class: 'raised-why' }, t('esc.raised_why', { from: label('esc.level', esc.level - 1), level: label('esc.level', esc.level) }))] : null,
      caseInfo ? [h('dt', null, t('case.place')), h('dd', null, regionText(caseInfo.region_code)),
        caseInfo.place_note ? [h('dt', null, t('case.place_note')), h('dd', { class: 'place-note' }, caseInfo.place_note)] : null,
        h('dt', null, t('case.summary')), h('dd', null, caseInfo.summary || '—')] : null,
      h('dt', null, t('board.raised_at')), h('dd', null, fmtTime(esc.created_at)),
      esc.police_unit_id ? [h('dt', null, t('board.police_unit')), h('dd', null, unitName(esc.police_unit_id))] : null,
      esc.acknowledged_at ? [h('dt', null, t('board.acked_at')), h('dd', null, fmtTime(esc.acknowledged_at))] : null,
      esc.resolution ? [h('dt', null, t('board.summary')), h('dd', null, esc.resolution)] : null,
      esc.external_ref ? [h('dt', null, t('esc.external_ref')), h('dd', { class: 'external-ref' }, esc.external_ref)] : null);
    replace(actionsList, h('h4', null, t('board.actions')),
      actions.length
        ? h('ul', { class: 'action-list' }, actions.map((a) => h('li', null, h('strong', null, label('action', a.kind)), ' · ', fmtTime(a.at), a.notes ? [' · ', a.notes] : null)))
        : h('p', { class: 'muted' }, t('board.no_actions')));
    const open = esc.status !== 'resolved';
    ackBtn.closest('.ack-row') && (ackBtn.closest('.ack-row').hidden = esc.status !== 'pending');
    actionForm.hidden = !open;
    resolveForm.hidden = !open || esc.status === 'pending';
    refForm.hidden = !open;
    if (document.activeElement !== ref) ref.value = esc.external_ref || '';
    syncNumber();
  }
  update(esc);
  return { el: card, update, setCase, get value() { return esc; } };
}
