// A plain list of the cases in the user's scope, with simple filters.
import { h, replace, field, options } from '../dom.js';
import { t } from '../i18n.js';
import { get, errorText, qs } from '../api.js';
import { CATEGORIES, debounce, section } from '../util.js';
import { caseTable } from './caselist.js';

export function renderCases(container, ctx) {
  const disposers = [];
  let alive = true;
  disposers.push(() => { alive = false; });
  const status = options(h('select', { name: 'status' }), ['new', 'assigned', 'in_progress', 'resolved', 'closed'].map((s) => [s, t(`status.${s}`)]), { placeholder: '—' });
  const category = options(h('select', { name: 'category' }), CATEGORIES.map((c) => [c, t(`category.${c}`)]), { placeholder: '—' });
  const q = h('input', { name: 'q', type: 'search' });
  const listBox = h('div', null, h('p', { class: 'muted' }, t('app.loading')));
  const form = h('form', { class: 'filters', role: 'search' },
    field(t('list.status'), status), field(t('list.category'), category), field(t('list.summary'), q),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn' }, t('sup.run'))));
  async function refresh() {
    try {
      const r = await get(`/cases${qs({ limit: 100, status: status.value, category: category.value, q: q.value.trim() })}`);
      replace(listBox, caseTable((r && r.items) || []));
    } catch (err) { replace(listBox, h('p', { class: 'error' }, errorText(err))); }
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); refresh(); });
  const soon = debounce(() => { if (alive) refresh(); }, 300);
  disposers.push(ctx.live.onEvent(() => soon()));
  container.append(h('h1', null, t('nav.cases')), section(t('nav.cases'), form, listBox));
  refresh();
  return () => disposers.forEach((d) => d());
}
