// A case's timeline: each event's words rendered from its codes in the
// reader's language (routing, reasons, results), never the server's text.
import { h, replace } from '../dom.js';
import { t, label } from '../i18n.js';
import { fmtTime, unitName } from '../util.js';
import { reasonText } from './escalation-card.js';

/** Why a case went where it went, from the routing event's codes. */
export function routeText(d) {
  const kind = label('unit_kind', d.unit_kind);
  if (d.dispatched === false) return t('route.manual', { kind });
  if (typeof d.route_level === 'number') return t('route.nearest', { kind, level: t(`region.level.${d.route_level - 1}`) });
  return t('route.rule', { kind });
}

/** A safe contact recorded on the case (never its code word or notes). */
function safeBits(d) {
  const out = [];
  if (d.from === 'ledger') out.push(t('tl.safe.from_ledger'));
  if (d.safe_to_call === false) out.push(t('tl.safe.no_call'));
  if (d.safe_hours) out.push(t('tl.safe.hours', { hours: d.safe_hours }));
  if (d.no_sms) out.push(t('tl.safe.no_sms'));
  return out;
}

function eventDetail(ev) {
  const d = ev.data || {};
  const bits = [];
  if (d.declined) bits.push(t('event.case.declined'));
  if (d.unit_name || d.to_unit_name) bits.push(`→ ${d.to_unit_name || d.unit_name}`);
  else if (d.unit_id || d.to_unit_id) bits.push(`→ ${unitName(d.to_unit_id || d.unit_id)}`);
  if (d.by_name) bits.push(`${t('case.by')}: ${d.by_name}`);
  if (ev.event === 'case.risk_raised' && d.to) bits.push(`${label('risk', d.from)} → ${label('risk', d.to)}`);
  const referral = String(ev.event).startsWith('referral.');
  if (d.referral_kind) bits.push(`${d.referral_number || ''} ${label('ref.kind', d.referral_kind)}`);
  if (d.result) bits.push(referral ? label('ref.result', d.result) : label('result', d.result));
  if (d.reason_code) bits.push(label('ref.reason', d.reason_code));
  if (d.automatic) bits.push(t('ref.auto'));
  if (d.kind && String(ev.event).startsWith('escalation.')) bits.push(label('action', d.kind));
  if (d.kind && ev.event === 'deadline.missed') bits.push(t(`deadline.${d.kind}`, { fallback: d.kind }));
  if (d.urgency) bits.push(label('esc.urgency', d.urgency));
  if (d.level) bits.push(label('esc.level', d.level));
  if (d.risk_level) bits.push(label('risk', d.risk_level));
  for (const k of ['body', 'reason', 'details', 'follow_up', 'notes', 'summary', 'opinion', 'reference']) {
    if (!d[k] || typeof d[k] !== 'string') continue;
    if (k === 'reason' && ev.event === 'case.assigned') bits.push(routeText(d));
    else if (k === 'reason' && ev.event === 'mediation.terminated') bits.push(t(`med.reason.${d[k]}`));
    else bits.push(k === 'reason' ? reasonText(d[k]) : d[k]);
  }
  if (ev.event === 'case.contact_safety_set') bits.push(...safeBits(d));
  if (d.agreement_date) bits.push(`${t('case.agreement_date')}: ${d.agreement_date}`);
  return bits;
}

export function paintTimeline(timeline, events) {
  const sorted = [...events].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0) || String(a.at).localeCompare(String(b.at)));
  replace(timeline, sorted.map((ev) => h('li', { class: `tl-item tl-${String(ev.event).replace(/\./g, '-')}`, dataset: { event: ev.event } },
    h('time', { datetime: ev.at }, fmtTime(ev.at)),
    h('div', { class: 'tl-body' },
      h('strong', null, label('event', ev.event)),
      eventDetail(ev).map((b) => h('span', { class: 'tl-detail' }, b))))));
  if (!sorted.length) timeline.append(h('li', { class: 'muted' }, t('app.empty')));
}
