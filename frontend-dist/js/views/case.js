// Case page: details, masked numbers with "show", deadlines, escalation,
// the work forms and the timeline. Live events for this case reload the
// details and timeline; the forms are built once, so typing is never lost.
import { h, replace, field, options } from '../dom.js';
import { t, label } from '../i18n.js';
import { get, post, errorText } from '../api.js';
import {
  MEDIATION, UNIT_ROLES, fmtTime, riskBadge, statusBadge, priorityBadge, unitName, regionText, countdown,
  toast, clearErrors, showError, formError, keepDraft, debounce, loadUnits, paren,
} from '../util.js';
import { escalationCard } from './escalation-card.js';
import { paintTimeline } from './timeline.js';
import { referralPanel } from './referrals.js';
import { mediationTab } from './mediation.js';
import { measuresPanel, reporterBox } from './measures.js';
import { hotlinePanel } from './case-hotline.js';

export function renderCase(container, ctx, caseId) {
  const disposers = [];
  let alive = true;
  disposers.push(() => { alive = false; });
  const me = ctx.me;
  let kase = null;
  let revealed = null; // subject with full numbers, once the user asked
  let escCard = null;

  const title = h('h1', null, t('app.loading'));
  const badges = h('div', { class: 'case-badges' });
  const details = h('div', { class: 'case-details' });
  const escBox = h('div', { class: 'case-escalation' });
  const actionsBox = h('div', { class: 'case-actions' });
  const timeline = h('ol', { class: 'timeline', id: 'timeline' });
  const pageError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const back = h('a', { href: '#/', class: 'back-link' });
  const referrals = referralPanel(ctx, caseId);

  async function load({ quiet } = {}) {
    try {
      const c = await get(`/cases/${encodeURIComponent(caseId)}`);
      kase = c;
      pageError.hidden = true;
      paint();
      return c;
    } catch (err) {
      if (!quiet) { pageError.textContent = errorText(err); pageError.hidden = false; }
      if (!kase) title.textContent = t('err.not_found');
      return null;
    }
  }

  function paint() {
    const c = kase;
    title.textContent = t('case.title', { number: c.number || '' });
    replace(badges, statusBadge(c.status), ' ', riskBadge(c.risk_level), ' ', c.priority ? priorityBadge(c.priority) : null,
      c.overdue ? [' ', h('span', { class: 'badge badge-overdue' }, t('case.overdue'))] : null);
    const subj = revealed || c.subject || {};
    const masked = (v) => typeof v === 'string' && v.includes('*');
    const canReveal = !revealed && (masked(subj.phone) || masked(subj.id_number));
    const revealBtn = canReveal ? h('button', {
      type: 'button', class: 'btn btn-small', id: 'reveal-btn',
      onclick: reveal,
    }, t('case.reveal')) : null;
    const d = c.deadlines || {};
    const dl = [
      ['dispatch', d.dispatch_due_at, c.status === 'new' ? null : 'done'],
      ['accept', d.accept_due_at, ['new', 'assigned'].includes(c.status) ? null : 'done'],
      ['resolve', d.resolve_due_at, ['resolved', 'closed'].includes(c.status) ? 'done' : null],
      ['follow_up', d.follow_up_due_at, c.status === 'closed' ? 'done' : null],
      ['confirmation', d.confirmation_due_at, c.confirmation ? 'done' : null],
    ].filter(([, due]) => due);
    const ds = c.danger_screen;
    const screenBox = ds ? h('section', { class: 'danger-screen', id: 'danger-screen', 'aria-labelledby': 'ds-h' },
      h('h3', { id: 'ds-h' }, t('case.screen')),
      h('dl', { class: 'kv' },
        h('dt', null, t('case.screen_result')), h('dd', null, riskBadge(ds.risk_level || 'none')),
        h('dt', null, t('case.screen_in_progress')), h('dd', null, ds.in_progress ? t('case.yes') : t('case.no')),
        h('dt', null, t('case.screen_yes')), h('dd', null, (ds.answers || []).map((a, i) => (a ? i + 1 : null)).filter(Boolean).join(t('p.sep')) || '—'),
        h('dt', null, t('case.screen_concern')), h('dd', null, ds.screener_concern ? t('case.yes') : t('case.no')),
        h('dt', null, t('case.screen_notes')), h('dd', { class: 'pre', id: 'screen-notes' }, ds.notes || '—'),
        h('dt', null, t('case.screen_by')), h('dd', null, `${ds.screened_by_name || '—'} · ${fmtTime(ds.screened_at)}`))) : null;
    const conf = c.confirmation;
    const confBox = conf ? h('p', { class: 'confirmation', id: 'confirmation-status' },
      `${t('case.confirmation')}: ${t(`confirmation.${conf.status}`)}`, conf.court ? ` · ${conf.court}` : '', ` · ${conf.date}`) : null;
    replace(details,
      h('dl', { class: 'kv' },
        h('dt', null, t('case.category')), h('dd', null, label('category', c.category)),
        h('dt', null, t('case.place')), h('dd', null, regionText(c.region_code), ' ', h('span', { class: 'muted' }, c.region_code)),
        c.place_note ? [h('dt', null, t('case.place_note')), h('dd', { id: 'case-place-note', class: 'place-note' }, c.place_note)] : null,
        h('dt', null, t('case.summary')), h('dd', null, c.summary || '—'),
        h('dt', null, t('case.description')), h('dd', { class: 'pre' }, c.description || '—'),
        h('dt', null, t('case.unit')), h('dd', null, unitName(c.assigned_unit_id)),
        h('dt', null, t('case.created')), h('dd', null, fmtTime(c.created_at)),
        h('dt', null, t('case.updated')), h('dd', null, fmtTime(c.updated_at))),
      h('h3', null, t('case.subject')),
      h('dl', { class: 'kv subject-kv' },
        h('dt', null, t('case.name')), h('dd', { id: 'subject-name' }, subj.name || '—'),
        h('dt', null, t('case.phone')), h('dd', { id: 'subject-phone' }, subj.phone || '—'),
        h('dt', null, t('case.id_number')), h('dd', { id: 'subject-id' }, subj.id_number || '—')),
      revealBtn,
      revealed ? h('p', { class: 'muted', role: 'status' }, t('case.revealed')) : null,
      screenBox, confBox,
      dl.length ? [h('h3', null, t('case.deadlines')), h('dl', { class: 'kv' }, dl.flatMap(([k, due, done]) => [
        h('dt', null, t(`deadline.${k}`)),
        h('dd', null, done ? h('span', { class: 'countdown cd-done' }, `${t('cd.done')}${paren(t('cd.due_at', { t: fmtTime(due) }))}`) : countdown(due, { startIso: c.created_at })),
      ]))] : null);

    // Escalation: keep the card (and any typing in it) across reloads.
    if (c.escalation) {
      if (escCard && escCard.value.id === c.escalation.id) escCard.update({ case_number: c.number, case_id: c.id, ...c.escalation });
      else {
        escCard = escalationCard({ case_number: c.number, case_id: c.id, ...c.escalation }, {
          canAct: me.role === 'police_liaison', onChanged: () => load({ quiet: true }), headingLevel: 'h3', role: me.role,
        });
        replace(escBox, h('h2', null, t('case.escalation')), escCard.el);
      }
    } else {
      escCard = null;
      replace(escBox);
    }
    updateForms();
    referrals.refresh(c);
    paintTimeline(timeline, c.timeline || []);
    mediation.update(c);
  }


  async function reveal() {
    try {
      const c = await get(`/cases/${encodeURIComponent(caseId)}?reveal=true`);
      revealed = c.subject || {};
      kase = c;
      paint();
      const dd = document.getElementById('subject-phone');
      if (dd) dd.focus();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  // ---------- the work forms (built once) ----------
  const forms = {};
  /** A form posting to /cases/{id}/{path}; `build` returns fields, `body` the JSON. */
  function actionForm(key, { legend, fields, submitText, body, withVersion = true, validate, help }) {
    const btn = h('button', { type: 'submit', class: key === 'accept' ? 'btn btn-primary' : 'btn' }, submitText);
    const form = h('form', { class: 'case-form', novalidate: true, id: `form-${key}` },
      h('fieldset', null, h('legend', null, legend), help ? h('p', { class: 'hint' }, help) : null, fields, formError(),
        h('div', { class: 'form-actions' }, btn)));
    const draft = keepDraft(form, `case-${caseId}-${key}`);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      if (validate) { const v = validate(); if (v) { showError(form, v, v.message); return; } }
      btn.disabled = true;
      try {
        const payload = body();
        if (withVersion && kase) payload.version = kase.version;
        await post(`/cases/${encodeURIComponent(caseId)}/${key === 'note' ? 'notes' : key}`, payload);
        form.reset();
        draft.drop();
        toast(t('case.done'), 'success');
        await load({ quiet: true });
      } catch (err) {
        if (err.code === 'version_conflict') {
          await load({ quiet: true });
          showError(form, { message: t('err.version_conflict') }, t('err.version_conflict'));
          toast(t('err.version_conflict'), 'error');
        } else {
          showError(form, err, errorText(err));
        }
      } finally {
        btn.disabled = false;
      }
    });
    forms[key] = { form, draft };
    return form;
  }
  const required = (el, name) => () => (el.value.trim() ? null : { field: name, message: t('err.required') });

  const acceptForm = actionForm('accept', {
    legend: t('case.accept'), fields: [], submitText: t('case.accept'), help: t('case.accept_help'), body: () => ({}),
  });

  const noteBody = h('textarea', { name: 'body', rows: 3 });
  const noteForm = actionForm('note', {
    legend: t('case.note'), fields: [field(t('case.note_body'), noteBody, { name: 'body', required: true })],
    submitText: t('case.note_add'), withVersion: false, body: () => ({ body: noteBody.value.trim() }),
    validate: required(noteBody, 'body'),
  });

  const unitSel = h('select', { name: 'unit_id' });
  const transferReason = h('textarea', { name: 'reason', rows: 2 });
  const transferForm = actionForm('transfer', {
    legend: t(me.role === 'supervisor' ? 'case.reassign' : 'case.transfer'),
    fields: [field(t('case.transfer_unit'), unitSel, { name: 'unit_id', required: true }),
      field(t('case.transfer_reason'), transferReason, { name: 'reason', required: true })],
    submitText: t('case.transfer_do'), body: () => ({ unit_id: unitSel.value, reason: transferReason.value.trim() }),
    validate: () => (!unitSel.value ? { field: 'unit_id', message: t('err.required') } : required(transferReason, 'reason')()),
  });
  loadUnits().then((units) => {
    const keep = unitSel.value;
    replace(unitSel, h('option', { value: '' }, t('op.choose')));
    const byKind = new Map();
    for (const u of units) {
      if (u.id === me.unit_id || u.active === false) continue;
      if (!byKind.has(u.kind)) byKind.set(u.kind, []);
      byKind.get(u.kind).push(u);
    }
    for (const [kind, list] of byKind) {
      unitSel.append(h('optgroup', { label: label('unit_kind', kind) }, list.map((u) => h('option', { value: u.id }, u.name))));
    }
    if (keep) unitSel.value = keep;
    forms.transfer.draft.restore();
  }).catch(() => {});

  // A supervisor urges the unit (督办): on the timeline, audited, mailed.
  const urgeOpinion = h('textarea', { name: 'opinion', rows: 2 });
  const urgeForm = actionForm('urge', {
    legend: t('case.urge'), help: t('case.urge_help'), fields: [field(t('case.urge_opinion'), urgeOpinion, { name: 'opinion', required: true })],
    submitText: t('case.urge_do'), body: () => ({ opinion: urgeOpinion.value.trim() }), validate: required(urgeOpinion, 'opinion'),
  });

  const declineReason = h('textarea', { name: 'reason', rows: 2 });
  const declineForm = actionForm('decline', {
    legend: t('case.decline'), fields: [field(t('case.decline_reason'), declineReason, { name: 'reason', required: true })],
    submitText: t('case.decline_do'), body: () => ({ reason: declineReason.value.trim() }), validate: required(declineReason, 'reason'),
  });

  const result = h('select', { name: 'result' });
  const outcomeDetails = h('textarea', { name: 'details', rows: 3 });
  const agreementDate = h('input', { type: 'date', name: 'agreement_date' });
  const agreementField = field(t('case.agreement_date'), agreementDate, { name: 'agreement_date', hint: t('case.agreement_hint') });
  const outcomeForm = actionForm('outcome', {
    legend: t('case.outcome'),
    fields: [field(t('case.result'), result, { name: 'result', required: true }), agreementField,
      field(t('case.details_text'), outcomeDetails, { name: 'details', required: true })],
    submitText: t('case.outcome_do'),
    body: () => {
      const b = { result: result.value, details: outcomeDetails.value.trim() };
      if (result.value === 'agreement' && agreementDate.value) b.agreement_date = agreementDate.value;
      return b;
    },
    validate: () => {
      if (!result.value) return { field: 'result', message: t('err.required') };
      if (result.value === 'agreement' && !agreementDate.value) return { field: 'agreement_date', message: t('err.required') };
      return required(outcomeDetails, 'details')();
    },
  });
  const syncAgreement = () => { agreementField.hidden = result.value !== 'agreement'; };
  result.addEventListener('change', syncAgreement);

  const followUp = h('textarea', { name: 'follow_up', rows: 3 });
  const overrideReason = h('textarea', { name: 'override_reason', rows: 2 });
  const overrideField = field(t('case.override_reason'), overrideReason, { name: 'override_reason', hint: t('case.override_hint') });
  const escIsOpen = () => kase && kase.escalation && kase.escalation.status !== 'resolved';
  const closeForm = actionForm('close', {
    legend: t('case.close'),
    fields: [field(t('case.follow_up'), followUp, { name: 'follow_up', required: true }), overrideField],
    submitText: t('case.close_do'),
    body: () => ({ follow_up: followUp.value.trim(), ...(escIsOpen() ? { override_reason: overrideReason.value.trim() } : {}) }),
    validate: () => required(followUp, 'follow_up')() || (escIsOpen() ? required(overrideReason, 'override_reason')() : null),
  });

  const riskLevel = options(h('select', { name: 'risk_level' }), ['elevated', 'high', 'imminent'].map((v) => [v, label('risk', v)]), { placeholder: t('op.choose') });
  const riskReason = h('textarea', { name: 'reason', rows: 2 });
  const riskForm = actionForm('risk', {
    legend: t('case.risk'), help: t('case.risk_help'),
    fields: [field(t('case.risk_level'), riskLevel, { name: 'risk_level', required: true }),
      field(t('case.risk_reason'), riskReason, { name: 'reason', required: true })],
    submitText: t('case.risk_do'),
    body: () => ({ risk_level: riskLevel.value, reason: riskReason.value.trim() }),
    validate: () => (!riskLevel.value ? { field: 'risk_level', message: t('err.required') } : required(riskReason, 'reason')()),
  });

  const confStatus = options(h('select', { name: 'status' }), ['applied', 'confirmed', 'rejected', 'not_needed'].map((v) => [v, t(`confirmation.${v}`)]), { placeholder: t('op.choose') });
  const confCourt = h('input', { type: 'text', name: 'court', maxlength: 200 });
  const confDate = h('input', { type: 'date', name: 'date' });
  const confirmationForm = actionForm('confirmation', {
    legend: t('case.confirmation'), help: t('case.confirmation_help'),
    fields: [field(t('case.confirmation_status'), confStatus, { name: 'status', required: true }),
      field(t('case.court'), confCourt, { name: 'court' }),
      field(t('case.confirmation_date'), confDate, { name: 'date', required: true })],
    submitText: t('case.confirmation_do'),
    body: () => ({ status: confStatus.value, date: confDate.value, ...(confCourt.value.trim() ? { court: confCourt.value.trim() } : {}) }),
    validate: () => (!confStatus.value ? { field: 'status', message: t('err.required') } : (!confDate.value ? { field: 'date', message: t('err.required') } : null)),
  });

  const reopenReason = h('textarea', { name: 'reason', rows: 2 });
  const reopenForm = actionForm('reopen', {
    legend: t('case.reopen'), fields: [field(t('case.reopen_reason'), reopenReason, { name: 'reason', required: true })],
    submitText: t('case.reopen_do'), body: () => ({ reason: reopenReason.value.trim() }), validate: required(reopenReason, 'reason'),
  });

  const urgency = options(h('select', { name: 'urgency' }), [['high', t('esc.urgency.high')], ['imminent', t('esc.urgency.imminent')]]);
  const escReason = h('textarea', { name: 'reason', rows: 2 });
  const escalateForm = actionForm('escalations', {
    legend: t('case.escalate'),
    fields: [field(t('case.urgency'), urgency, { name: 'urgency' }), field(t('case.escalate_reason'), escReason, { name: 'reason', required: true })],
    submitText: t('case.escalate_do'), withVersion: false,
    body: () => ({ urgency: urgency.value, reason: escReason.value.trim() }), validate: required(escReason, 'reason'),
  });

  function updateForms() {
    const c = kase;
    const role = me.role;
    const mine = c.assigned_unit_id && c.assigned_unit_id === me.unit_id;
    // The police work a case routed to their unit like any unit (issue 15).
    const isUnit = UNIT_ROLES.includes(role) || (role === 'police_liaison' && mine);
    const handles = isUnit || role === 'supervisor' || role === 'admin';
    const open = c.status !== 'closed';
    const escOpen = c.escalation && c.escalation.status !== 'resolved';
    const show = {
      accept: handles && c.status === 'assigned' && (mine || role === 'supervisor'),
      decline: isUnit && mine && c.status === 'assigned',
      transfer: (handles || role === 'operator') && ['new', 'assigned', 'in_progress'].includes(c.status),
      outcome: handles && c.status === 'in_progress',
      close: handles && c.status === 'resolved',
      risk: (role === 'operator' || role === 'supervisor' || (isUnit && mine && role !== 'police_liaison')) && open && c.risk_level !== 'imminent',
      confirmation: isUnit && mine && ['resolved', 'closed'].includes(c.status) && c.outcome && c.outcome.result === 'agreement',
      reopen: handles && ['resolved', 'closed'].includes(c.status),
      note: true,
      urge: role === 'supervisor' && open && Boolean(c.assigned_unit_id),
      escalations: role !== 'police_liaison' && open && c.status !== 'resolved' && !escOpen,
    };
    const resultKeep = result.value;
    const results = MEDIATION.includes(c.category) ? ['agreement', 'no_agreement', 'referred', 'withdrawn'] : ['resolved', 'referred', 'withdrawn'];
    if ([...result.options].map((o) => o.value).join() !== ['', ...results].join()) {
      options(result, results.map((r) => [r, t(`result.${r}`)]), { placeholder: t('op.choose') });
      if (results.includes(resultKeep)) result.value = resultKeep;
      forms.outcome.draft.restore();
    }
    syncAgreement();
    overrideField.hidden = !escOpen;
    for (const [key, on] of Object.entries(show)) forms[key].form.hidden = !on;
  }

  // Restore drafts of every form once (after a reload or language switch).
  for (const f of Object.values(forms)) f.draft.restore();

  const reloadSoon = debounce(async () => {
    if (!alive) return;
    const before = kase && kase.version;
    const c = await load({ quiet: true });
    if (alive && c && before !== undefined && c.version !== before) toast(t('case.updated_live', { number: c.number }));
  }, 250);
  disposers.push(ctx.live.onEvent((ev) => { if (ev.case_id === caseId) reloadSoon(); }));
  disposers.push(ctx.live.onFrame((f) => { if (f.type === 'hello' && kase) reloadSoon(); }));

  // The mediation tab (views/mediation.js) beside the details.
  const mediation = mediationTab(ctx, caseId, { onChanged: () => load({ quiet: true }) });
  const detailsPanel = h('section', { class: 'panel', id: 'case-details-panel', role: 'tabpanel', 'aria-labelledby': 'case-details-h' },
    h('h2', { id: 'case-details-h' }, t('case.details')), details);
  const mediationPanel = h('section', { class: 'panel', id: 'mediation-panel', role: 'tabpanel', 'aria-labelledby': 'tab-mediation', hidden: true },
    mediation.el);
  const tabs = [['tab-details', t('case.details'), detailsPanel], ['tab-mediation', t('med.tab'), mediationPanel]].map(([id, text, panel]) => {
    const b = h('button', { type: 'button', role: 'tab', id, class: 'btn btn-small', 'aria-controls': panel.id, 'aria-selected': String(!panel.hidden) }, text);
    b.addEventListener('click', () => {
      for (const [tb, pn] of tabs) { pn.hidden = tb !== b; tb.setAttribute('aria-selected', String(tb === b)); }
    });
    return [b, panel];
  });

  back.textContent = `← ${t('case.back')}`;
  back.addEventListener('click', (ev) => { ev.preventDefault(); if (history.length > 1) history.back(); else ctx.navigate('#/'); });

  container.append(
    back,
    h('div', { class: 'page-head' }, title, badges),
    pageError,
    h('div', { class: 'case-layout' },
      h('div', { class: 'case-main' },
        h('div', { class: 'case-tabs', role: 'tablist' }, tabs.map(([b]) => b)),
        detailsPanel, mediationPanel,
        escBox,
        referrals.el,
        h('section', { class: 'panel', 'aria-labelledby': 'case-tl-h' }, h('h2', { id: 'case-tl-h' }, t('case.timeline')), timeline)),
      h('div', { class: 'case-side' },
        h('section', { class: 'panel', 'aria-labelledby': 'case-act-h' }, h('h2', { id: 'case-act-h' }, t('case.actions')),
          acceptForm, urgeForm, noteForm, riskForm, outcomeForm, confirmationForm, closeForm, transferForm, declineForm, escalateForm, reopenForm, actionsBox))));
  const measures = measuresPanel(ctx, { caseId });
  disposers.push(measures.dispose);
  escBox.after(measures.el, reporterBox(ctx, caseId));
  const hotline = hotlinePanel(ctx, caseId); // issue 18
  referrals.el.after(hotline.el);
  disposers.push(ctx.live.onEvent((e) => { if (e.case_id === caseId) hotline.reload(); }));
  load();
  return () => disposers.forEach((d) => d());
}
