// Police liaison's escalation board: open escalations with running
// countdowns, newest arrivals announced with sound and text.
import { h, replace, checkbox } from '../dom.js';
import { t } from '../i18n.js';
import { get, errorText, qs } from '../api.js';
import { toast, beep, debounce, section, loadUnits, unitName } from '../util.js';
import { escalationCard } from './escalation-card.js';
import { measuresPanel, routedQueue } from './measures.js';

export function renderBoard(container, ctx, { readOnly = false } = {}) {
  const disposers = [];
  let alive = true;
  disposers.push(() => { alive = false; });
  const cards = new Map();
  let known = null;
  const grid = h('div', { class: 'esc-grid', id: 'esc-board', 'aria-live': 'off' });
  const empty = h('p', { class: 'muted', hidden: true }, t('board.none'));
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const showResolved = h('input', { type: 'checkbox', id: 'show-resolved' });
  const unitLine = h('p', { class: 'unit-line' }, unitName(ctx.me.unit_id));
  loadUnits().then(() => { unitLine.textContent = unitName(ctx.me.unit_id); }).catch(() => {});

  const order = { pending: 0, acknowledged: 1, resolved: 2 };
  const dueOf = (e) => (e.status === 'pending' ? e.ack_due_at : e.action_due_at) || e.created_at || '';

  async function refresh() {
    if (!alive) return;
    let items;
    try {
      const r = await get(`/escalations${qs({ limit: 200 })}`);
      items = (r && r.items) || [];
    } catch (err) {
      replace(grid, h('p', { class: 'error' }, errorText(err)));
      cards.clear();
      return;
    }
    if (!alive) return;
    const arrived = known ? items.filter((e) => !known.has(e.id)) : [];
    known = new Set(items.map((e) => e.id));
    const visible = items.filter((e) => showResolved.checked || e.status !== 'resolved');
    visible.sort((a, b) => (order[a.status] - order[b.status]) || String(dueOf(a)).localeCompare(String(dueOf(b))));
    const keep = new Set(visible.map((e) => e.id));
    for (const [id, c] of cards) if (!keep.has(id)) { c.el.remove(); cards.delete(id); }
    if (grid.querySelector('.error')) replace(grid);
    for (const e of visible) {
      let c = cards.get(e.id);
      if (c) c.update(e);
      else {
        c = escalationCard(e, { canAct: !readOnly && ctx.me.role === 'police_liaison', onChanged: refreshSoon, role: ctx.me.role });
        cards.set(e.id, c);
        const card = c;
        // Where and what: the police need the place before anything else.
        get(`/cases/${encodeURIComponent(e.case_id)}`).then((kase) => card.setCase(kase)).catch(() => {});
      }
      grid.append(c.el); // re-append keeps order without rebuilding
      c.el.classList.toggle('is-new', arrived.some((a) => a.id === e.id));
    }
    empty.hidden = visible.length > 0;
    count.textContent = t('board.open_count', { n: items.filter((e) => e.status !== 'resolved').length });
    if (arrived.length) {
      beep(3);
      for (const e of arrived) toast(t('board.new', { number: e.case_number || '' }), 'alert');
    }
  }
  const refreshSoon = debounce(refresh, 200);
  disposers.push(ctx.live.onEvent((ev) => { if (String(ev.event).startsWith('escalation.') || ev.event === 'deadline.missed') refreshSoon(); }));
  disposers.push(ctx.live.onFrame((f) => { if (f.type === 'hello') refreshSoon(); }));
  showResolved.addEventListener('change', refresh);

  if (!readOnly) {
    container.append(h('div', { class: 'page-head' }, h('h1', null, t('board.title')), unitLine));
  }
  container.append(section(readOnly ? t('sup.escalations') : t('board.list'),
    h('div', { class: 'toolbar' }, count, checkbox(t('board.show_resolved'), showResolved)), empty, grid));
  // The police loop: the cases routed to this unit, and the measures.
  if (!readOnly && ctx.me.role === 'police_liaison') {
    const queue = routedQueue(ctx);
    const measures = measuresPanel(ctx);
    disposers.push(queue.dispose, measures.dispose);
    container.append(queue.el, measures.el);
  }
  refresh();
  return () => disposers.forEach((d) => d());
}
