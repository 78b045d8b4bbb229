// The case table shared by the operator, unit queue and supervisor views.
import { h, replace } from '../dom.js';
import { t, label } from '../i18n.js';
import {
  fmtTime, riskBadge, statusBadge, priorityBadge, unitName, regionText, countdown,
} from '../util.js';

/** Which deadline matters now for a case, given its status. */
export function currentDeadline(c) {
  const d = c.deadlines || {};
  if (c.status === 'new' || c.status === 'assigned') return ['accept', d.accept_due_at];
  if (c.status === 'in_progress') return ['resolve', d.resolve_due_at];
  if (c.status === 'resolved') return ['follow_up', d.follow_up_due_at];
  if (d.confirmation_due_at && c.status !== 'closed') return ['confirmation', d.confirmation_due_at];
  return [null, null];
}

/**
 * Renders `cases` into `tbody`-owning table. `opts.newIds` marks rows that
 * just arrived; `opts.rowActions(c)` returns extra controls for a row.
 */
export function caseTable(cases, opts = {}) {
  const { newIds = new Set(), rowActions, showUnit = true, caption } = opts;
  const head = h('tr', null,
    h('th', { scope: 'col' }, t('list.number')),
    h('th', { scope: 'col' }, t('list.category')),
    h('th', { scope: 'col' }, t('list.summary')),
    h('th', { scope: 'col' }, t('list.place')),
    h('th', { scope: 'col' }, t('list.risk')),
    h('th', { scope: 'col' }, t('list.status')),
    showUnit ? h('th', { scope: 'col' }, t('list.unit')) : null,
    h('th', { scope: 'col' }, t('list.due')),
    h('th', { scope: 'col' }, t('list.created')),
    rowActions ? h('th', { scope: 'col' }, t('list.actions')) : null);
  const rows = cases.map((c) => {
    const [kind, due] = currentDeadline(c);
    const isNew = newIds.has(c.id);
    return h('tr', { class: [isNew && 'is-new', c.overdue && 'is-overdue'], dataset: { caseId: c.id, number: c.number || '' } },
      h('td', { 'data-label': t('list.number') },
        h('a', { href: `#/case/${c.id}`, class: 'case-link' }, c.number || c.id.slice(0, 8)),
        isNew ? h('span', { class: 'badge badge-new' }, t('list.new_badge')) : null,
        c.overdue ? h('span', { class: 'badge badge-overdue' }, t('list.overdue_badge')) : null),
      h('td', { 'data-label': t('list.category') }, label('category', c.category)),
      h('td', { class: 'summary-cell', 'data-label': t('list.summary') }, c.summary || ''),
      h('td', { 'data-label': t('list.place') }, regionText(c.region_code)),
      h('td', { 'data-label': t('list.risk') }, riskBadge(c.risk_level), c.priority && c.priority !== 'normal' ? [' ', priorityBadge(c.priority)] : null),
      h('td', { 'data-label': t('list.status') }, statusBadge(c.status)),
      showUnit ? h('td', { 'data-label': t('list.unit') }, unitName(c.assigned_unit_id)) : null,
      h('td', { 'data-label': t('list.due') }, kind ? [h('span', { class: 'due-kind' }, t(`deadline.${kind}`)), ' ', countdown(due)] : '—'),
      h('td', { 'data-label': t('list.created') }, fmtTime(c.created_at)),
      rowActions ? h('td', { class: 'row-actions' }, rowActions(c)) : null);
  });
  const table = h('table', { class: 'cases' },
    caption ? h('caption', null, caption) : null,
    h('thead', null, head),
    h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: 10, class: 'empty' }, t('app.empty')))));
  return h('div', { class: 'table-wrap' }, table);
}

export function renderInto(container, ...children) { replace(container, ...children); }
