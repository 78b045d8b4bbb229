// The case's mediation tab (issue 16): parties, sessions, the agreement with
// its obligations and their performance, the print button for the
// 人民调解协议书, the confirmation status, termination and the hand
// escalation. Forms are built once (typing survives live reloads); the
// summary above them is repainted from GET /cases/{id}/mediation.
import { h, replace, field, options, checkbox } from '../dom.js';
import { t, label } from '../i18n.js';
import { get, api, post, errorText } from '../api.js';
import { fmtTime, toast, clearErrors, showError, formError, UNIT_ROLES, colon, paren } from '../util.js';

const MEDIATING_ROLES = ['mediator', 'station_worker'];

export function mediationTab(ctx, caseId, { onChanged } = {}) {
  const me = ctx.me;
  const base = `/cases/${encodeURIComponent(caseId)}/mediation`;
  let kase = null;
  let med = null;
  const summary = h('div', { class: 'med-summary', id: 'med-summary' });
  const el = h('div', { class: 'mediation', id: 'mediation' }, summary);

  async function load() {
    try {
      med = await get(base);
    } catch (err) {
      if (err.status !== 404) toast(errorText(err), 'error');
      med = null;
    }
    paint();
  }

  /** A form that sends `body()` with `method` to `path()`. */
  function medForm(id, legend, fields, submitText, { method = 'POST', path, body, validate, help }) {
    const btn = h('button', { type: 'submit', class: 'btn' }, submitText);
    const form = h('form', { class: 'case-form', id, novalidate: true },
      h('fieldset', null, h('legend', null, legend), help ? h('p', { class: 'hint' }, help) : null, fields, formError(),
        h('div', { class: 'form-actions' }, btn)));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      if (validate) { const v = validate(); if (v) { showError(form, v, v.message); return; } }
      btn.disabled = true;
      try {
        await api(method, path(), body());
        form.reset();
        toast(t('case.done'), 'success');
        await load();
        if (onChanged) onChanged();
      } catch (err) {
        showError(form, err, errorText(err));
      } finally {
        btn.disabled = false;
      }
    });
    el.append(form);
    return form;
  }
  const need = (input, name) => (input.value.trim() ? null : { field: name, message: t('err.required') });

  // ---- registration: parties, dispute, consent ----
  const partyRows = h('div', { class: 'med-parties' });
  let partyCount = 0;
  function addParty(role) {
    const i = partyCount;
    partyCount += 1;
    const roleSel = options(h('select', { name: `parties[${i}].role` }), ['applicant', 'respondent', 'other'].map((r) => [r, t(`med.role.${r}`)]), { value: role });
    const row = h('div', { class: 'med-party', dataset: { party: String(i) } },
      field(t('med.party_role'), roleSel, { name: `parties[${i}].role` }),
      field(t('med.party_name'), h('input', { type: 'text', name: `parties[${i}].name`, maxlength: 64 }), { name: `parties[${i}].name`, required: true }),
      field(t('case.phone'), h('input', { type: 'tel', name: `parties[${i}].phone`, maxlength: 32 }), { name: `parties[${i}].phone` }),
      field(t('case.id_number'), h('input', { type: 'text', name: `parties[${i}].id_number`, maxlength: 18 }), { name: `parties[${i}].id_number` }),
      field(t('med.address'), h('input', { type: 'text', name: `parties[${i}].address`, maxlength: 200 }), { name: `parties[${i}].address` }));
    partyRows.append(row);
  }
  addParty('applicant');
  addParty('respondent');
  const addPartyBtn = h('button', { type: 'button', class: 'btn btn-small', onclick: () => addParty('other') }, t('med.add_party'));
  const dispute = h('textarea', { name: 'dispute', rows: 3 });
  const consent = h('input', { type: 'checkbox', name: 'consent_recorded' });
  const overrideReason = h('textarea', { name: 'override_reason', rows: 2 });
  const overrideField = field(t('med.override_reason'), overrideReason, { name: 'override_reason', hint: t('med.override_hint') });
  const unsafe = () => kase && (['high', 'imminent'].includes(kase.risk_level) || (kase.escalation && kase.escalation.status !== 'resolved'));
  const registerForm = medForm('form-med-register', t('med.register'), [
    partyRows, addPartyBtn,
    field(t('med.dispute'), dispute, { name: 'dispute', required: true }),
    checkbox(t('med.consent'), consent, { name: 'consent_recorded' }),
    overrideField,
  ], t('med.register_do'), {
    method: 'PUT', path: () => base, help: t('med.register_help'),
    body: () => {
      const parties = [...partyRows.querySelectorAll('.med-party')].map((row) => {
        const v = (k) => row.querySelector(`[name$=".${k}"]`).value.trim();
        const p = { role: v('role'), name: v('name') };
        for (const k of ['phone', 'id_number', 'address']) if (v(k)) p[k] = v(k);
        return p;
      }).filter((p) => p.name || p.role !== 'other');
      const b = { parties, consent_recorded: consent.checked, dispute: dispute.value.trim() };
      if (overrideReason.value.trim()) b.override_reason = overrideReason.value.trim();
      return b;
    },
    validate: () => (consent.checked ? need(dispute, 'dispute') : { field: 'consent_recorded', message: t('med.consent_needed') }),
  });

  // ---- a session ----
  const sessionAt = h('input', { type: 'datetime-local', name: 'at' });
  const place = h('input', { type: 'text', name: 'place', maxlength: 200 });
  const attendees = h('input', { type: 'text', name: 'attendees', maxlength: 2000 });
  const sessionSummary = h('textarea', { name: 'summary', rows: 3 });
  const sessionForm = medForm('form-med-session', t('med.session'), [
    field(t('med.session_at'), sessionAt, { name: 'at', required: true }),
    field(t('med.place'), place, { name: 'place', required: true }),
    field(t('med.attendees'), attendees, { name: 'attendees' }),
    field(t('med.session_summary'), sessionSummary, { name: 'summary', required: true }),
  ], t('med.session_do'), {
    path: () => `${base}/sessions`, help: t('med.session_help', { name: me.display_name || me.username }),
    body: () => ({
      at: new Date(sessionAt.value).toISOString(), place: place.value.trim(), mediators: [me.id],
      attendees: attendees.value.trim(), summary: sessionSummary.value.trim(),
    }),
    validate: () => (sessionAt.value ? null : { field: 'at', message: t('err.required') }) || need(place, 'place') || need(sessionSummary, 'summary'),
  });

  // ---- the agreement with its obligations ----
  const form = options(h('select', { name: 'form' }), ['written', 'oral'].map((f) => [f, t(`med.form.${f}`)]), { value: 'written' });
  const number = h('input', { type: 'text', name: 'number', maxlength: 64 });
  const facts = h('textarea', { name: 'facts', rows: 3 });
  const terms = h('textarea', { name: 'terms', rows: 4 });
  const effective = h('input', { type: 'date', name: 'effective_date' });
  const obligationRows = h('div', { class: 'med-obligations' });
  let obligationCount = 0;
  function addObligation() {
    const i = obligationCount;
    obligationCount += 1;
    const party = h('select', { name: `obligations[${i}].party` });
    fillParties(party);
    obligationRows.append(h('div', { class: 'med-obligation', dataset: { obligation: String(i) } },
      field(t('med.obligation_text', { n: i + 1 }), h('input', { type: 'text', name: `obligations[${i}].text`, maxlength: 2000 }), { name: `obligations[${i}].text` }),
      field(t('med.obligation_party'), party, { name: `obligations[${i}].party` }),
      field(t('med.obligation_due'), h('input', { type: 'date', name: `obligations[${i}].due_at` }), { name: `obligations[${i}].due_at` })));
  }
  function fillParties(sel) {
    const keep = sel.value;
    options(sel, ((med && med.parties) || []).map((p) => [p.name, `${p.name}${paren(t(`med.role.${p.role}`))}`]));
    if (keep) sel.value = keep;
  }
  addObligation();
  const addObligationBtn = h('button', { type: 'button', class: 'btn btn-small', onclick: addObligation }, t('med.add_obligation'));
  const agreementForm = medForm('form-med-agreement', t('med.agreement'), [
    field(t('med.form'), form, { name: 'form' }),
    field(t('med.number'), number, { name: 'number' }),
    field(t('med.facts'), facts, { name: 'facts', required: true }),
    field(t('med.terms'), terms, { name: 'terms', required: true }),
    obligationRows, addObligationBtn,
    field(t('med.effective_date'), effective, { name: 'effective_date', required: true, hint: t('med.effective_hint') }),
  ], t('med.agreement_do'), {
    path: () => `${base}/agreement`,
    body: () => ({
      form: form.value, number: number.value.trim(), facts: facts.value.trim(), terms: terms.value.trim(),
      effective_date: effective.value,
      obligations: [...obligationRows.querySelectorAll('.med-obligation')].map((row) => {
        const v = (k) => row.querySelector(`[name$=".${k}"]`).value.trim();
        return { text: v('text'), party: v('party'), due_at: v('due_at') ? new Date(`${v('due_at')}T23:59:59+08:00`).toISOString() : '' };
      }).filter((o) => o.text),
    }),
    validate: () => need(facts, 'facts') || need(terms, 'terms') || (effective.value ? null : { field: 'effective_date', message: t('err.required') }),
  });

  // ---- termination ----
  const reason = options(h('select', { name: 'reason' }), ['party_refused', 'no_agreement', 'escalated_to_police', 'withdrawn'].map((r) => [r, t(`med.reason.${r}`)]), { placeholder: t('op.choose') });
  const remedies = h('input', { type: 'checkbox', name: 'remedies_informed' });
  const notes = h('textarea', { name: 'notes', rows: 2 });
  const terminateForm = medForm('form-med-terminate', t('med.terminate'), [
    field(t('med.reason'), reason, { name: 'reason', required: true }),
    checkbox(t('med.remedies'), remedies, { name: 'remedies_informed' }),
    field(t('med.notes'), notes, { name: 'notes' }),
  ], t('med.terminate_do'), {
    path: () => `${base}/terminate`, help: t('med.terminate_help'),
    body: () => ({ reason: reason.value, remedies_informed: remedies.checked, notes: notes.value.trim() }),
    validate: () => (reason.value ? null : { field: 'reason', message: t('err.required') }),
  });

  // ---- the hand escalation, from the mediation itself ----
  const escReason = h('textarea', { name: 'reason', rows: 2 });
  const escalateForm = medForm('form-med-escalate', t('med.escalate'), [
    field(t('case.escalate_reason'), escReason, { name: 'reason', required: true }),
  ], t('med.escalate_do'), {
    path: () => `/cases/${encodeURIComponent(caseId)}/escalations`, help: t('med.escalate_help'),
    body: () => ({ urgency: 'high', reason: escReason.value.trim() }),
    validate: () => need(escReason, 'reason'),
  });

  async function performed(n) {
    try {
      await post(`${base}/obligations/${n}/performed`, { at: new Date().toISOString() });
      toast(t('case.done'), 'success');
      await load();
      if (onChanged) onChanged();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  function paintSummary(mine) {
    if (!med) {
      replace(summary, h('p', { class: 'muted', id: 'med-none' }, t('med.none')));
      return;
    }
    const a = med.agreement;
    const conf = med.confirmation;
    replace(summary,
      h('p', { id: 'med-status' }, `${t('med.status')}: `, h('strong', null, t(`med.status.${med.status}`)),
        ` · ${t('med.first_session_due')}: ${fmtTime(med.first_session_due_at)}`),
      h('h3', null, t('med.parties')),
      h('ul', { class: 'med-party-list' }, med.parties.map((p) => h('li', null,
        `${colon(t(`med.role.${p.role}`))}${p.name}`, p.phone ? ` · ${p.phone}` : '', p.id_number ? ` · ${p.id_number}` : '', p.address ? ` · ${p.address}` : ''))),
      h('p', { class: 'pre' }, med.dispute),
      h('h3', null, t('med.sessions')),
      med.sessions.length ? h('ol', { class: 'med-session-list' }, med.sessions.map((s) => h('li', null,
        `${fmtTime(s.at)} · ${s.place} · ${(s.mediators || []).map((m) => m.name).join(t('p.sep'))}`, h('br'), s.summary))) : h('p', { class: 'muted' }, t('app.empty')),
      med.termination ? h('p', { id: 'med-termination' }, `${t('med.terminate')}: ${t(`med.reason.${med.termination.reason}`)}`) : null,
      a ? [
        h('h3', null, t('med.agreement')),
        h('p', null, `${t(`med.form.${a.form}`)} · ${a.number || '—'} · ${t('med.effective_date')}: ${a.effective_date}`),
        h('p', { class: 'pre' }, a.terms),
        h('ol', { class: 'med-obligation-list' }, a.obligations.map((o) => h('li', { dataset: { n: String(o.n) } },
          `${colon(o.party)}${o.text} · ${t('med.obligation_due')} ${fmtTime(o.due_at)} · `,
          o.performed_at ? h('span', { class: 'badge' }, o.on_time ? t('med.performed_on_time') : t('med.performed_late'))
            : (mine ? h('button', { type: 'button', class: 'btn btn-small', id: `performed-${o.n}`, onclick: () => performed(o.n) }, t('med.performed_do')) : t('med.not_performed'))))),
        h('p', null, h('a', { class: 'btn', id: 'med-print', href: `/api/v1${base}/agreement.html`, target: '_blank', rel: 'noopener' }, t('med.print'))),
        h('p', { id: 'med-confirmation' }, `${t('case.confirmation')}: `,
          conf ? t(`confirmation.${conf.status}`) : (med.confirmation_due_at ? t('med.confirmation_open', { t: fmtTime(med.confirmation_due_at) }) : t('med.confirmation_after_outcome'))),
      ] : null);
  }

  function paint() {
    if (!kase) return;
    const mine = kase.assigned_unit_id && kase.assigned_unit_id === me.unit_id && MEDIATING_ROLES.includes(me.role);
    const working = mine && kase.status === 'in_progress';
    const open = med && med.status === 'registered';
    paintSummary(mine);
    registerForm.hidden = !(working && (!med || open));
    overrideField.hidden = !unsafe();
    sessionForm.hidden = !(working && open);
    agreementForm.hidden = !(working && open && med.sessions.length > 0);
    terminateForm.hidden = !(working && open);
    const escOpen = kase.escalation && kase.escalation.status !== 'resolved';
    escalateForm.hidden = !(UNIT_ROLES.includes(me.role) && mine && kase.status !== 'closed' && !escOpen);
    obligationRows.querySelectorAll('select').forEach(fillParties);
  }

  return {
    el,
    update(c) { kase = c; load(); },
    label: () => label('tab', 'mediation'),
  };
}
