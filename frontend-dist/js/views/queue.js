// Unit queue for station workers, mediators and department handlers: the
// unit's cases, live, with a visible and audible cue when one arrives.
import { h, replace, checkbox } from '../dom.js';
import { t, label } from '../i18n.js';
import { get, post, errorText, qs } from '../api.js';
import { toast, beep, debounce, section, unitName, loadUnits } from '../util.js';
import { caseTable } from './caselist.js';

const ARRIVALS = ['case.opened', 'case.assigned', 'case.transferred', 'case.reopened'];

export function renderQueue(container, ctx) {
  const disposers = [];
  let alive = true;
  disposers.push(() => { alive = false; });
  const me = ctx.me;
  let known = null; // ids seen so far; null until the first load
  const newIds = new Set();
  let items = [];

  const showClosed = h('input', { type: 'checkbox', id: 'show-closed' });
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const listBox = h('div', { id: 'queue-list' }, h('p', { class: 'muted' }, t('app.loading')));
  const heading = h('h1', null, t('queue.title'));
  const unitLine = h('p', { class: 'unit-line' }, unitName(me.unit_id));
  loadUnits().then(() => { unitLine.textContent = unitName(me.unit_id); }).catch(() => {});

  function rowActions(c) {
    if (c.status !== 'assigned') return h('a', { href: `#/case/${c.id}`, class: 'btn btn-small' }, t('list.open'));
    const btn = h('button', { type: 'button', class: 'btn btn-small btn-primary accept-btn', dataset: { caseId: c.id } }, t('queue.accept'));
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        await post(`/cases/${c.id}/accept`, { version: c.version });
        toast(t('queue.accepted', { number: c.number }), 'success');
        newIds.delete(c.id);
        await refresh();
      } catch (err) {
        toast(errorText(err), 'error');
        if (err.code === 'version_conflict') await refresh();
        btn.disabled = false;
      }
    });
    return [btn, ' ', h('a', { href: `#/case/${c.id}`, class: 'btn btn-small' }, t('list.open'))];
  }

  function paint() {
    const visible = items.filter((c) => showClosed.checked || c.status !== 'closed');
    // New arrivals first, then the most urgent.
    const rank = { imminent: 0, high: 1, elevated: 2, none: 3 };
    visible.sort((a, b) => (newIds.has(b.id) - newIds.has(a.id))
      || ((rank[a.risk_level] ?? 3) - (rank[b.risk_level] ?? 3))
      || String(b.created_at).localeCompare(String(a.created_at)));
    count.textContent = t('list.count', { n: visible.length });
    replace(listBox, caseTable(visible, { newIds, rowActions, showUnit: false }));
  }

  async function refresh() {
    if (!alive) return;
    try {
      const r = await get(`/cases${qs({ limit: 200, unit_id: me.unit_id || undefined })}`);
      items = (r && r.items) || [];
      const arrived = [];
      if (known) for (const c of items) if (!known.has(c.id)) arrived.push(c);
      known = new Set(items.map((c) => c.id));
      if (!alive) return;
      for (const c of arrived) newIds.add(c.id);
      paint();
      if (arrived.length) cue(arrived);
    } catch (err) {
      replace(listBox, h('p', { class: 'error' }, errorText(err)));
    }
  }

  function cue(arrived) {
    beep(2);
    for (const c of arrived) toast(t('queue.new_case', { number: c.number, category: label('category', c.category) }), 'alert');
    heading.classList.add('flash');
    setTimeout(() => heading.classList.remove('flash'), 2500);
    if (document.hidden) document.title = `(${newIds.size}) ${t('app.title')}`;
  }

  const refreshSoon = debounce(refresh, 200);
  disposers.push(ctx.live.onEvent((ev) => {
    if (ARRIVALS.includes(ev.event) || String(ev.event).startsWith('case.') || ev.event === 'deadline.missed') refreshSoon();
  }));
  disposers.push(ctx.live.onFrame((f) => { if (f.type === 'hello') refreshSoon(); }));
  const onVisible = () => { if (!document.hidden) document.title = t('app.title'); };
  document.addEventListener('visibilitychange', onVisible);
  disposers.push(() => document.removeEventListener('visibilitychange', onVisible));
  showClosed.addEventListener('change', paint);

  container.append(
    h('div', { class: 'page-head' }, heading, unitLine),
    section(t('queue.list'),
      h('div', { class: 'toolbar' }, h('p', { class: 'muted' }, t('queue.live_note')), checkbox(t('list.show_closed'), showClosed), count),
      listBox));
  refresh();
  return () => disposers.forEach((d) => d());
}
