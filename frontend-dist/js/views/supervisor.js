// Supervisor: overdue cases and escalations of the region, figures with
// simple SVG bar charts, and the CSV export.
import { h, svg, replace, field } from '../dom.js';
import { t, label } from '../i18n.js';
import { get, errorText, qs } from '../api.js';
import { debounce, section, unitName, loadUnits, fmtSeconds } from '../util.js';
import { caseTable } from './caselist.js';
import { renderBoard } from './board.js';
import { mediationFigures } from './mediation-report.js';
import { hotlineFigures } from './hotline-report.js';

/** Turn `{k: n}` or `[{key|category|status|unit_id, count}]` into [[key, n]]. */
export function pairs(v, keyNames = ['key', 'category', 'status', 'unit_id', 'unit', 'name']) {
  if (!v) return [];
  if (Array.isArray(v)) {
    return v.map((it) => {
      const k = keyNames.map((n) => it[n]).find((x) => x !== undefined && x !== null);
      const n = it.count ?? it.n ?? it.total ?? it.value ?? 0;
      return [String(k ?? '?'), Number(n) || 0];
    });
  }
  if (typeof v === 'object') return Object.entries(v).map(([k, n]) => [k, Number(typeof n === 'object' && n ? (n.count ?? n.total ?? 0) : n) || 0]);
  return [];
}

const pick = (obj, names) => { for (const n of names) if (obj && obj[n] !== undefined && obj[n] !== null) return obj[n]; return undefined; };

/** Horizontal bar chart built with DOM APIs; the numbers are also text. */
export function barChart(title, rows) {
  const data = rows.filter(([, n]) => n > 0 || rows.length <= 8);
  if (!data.length) return h('figure', { class: 'chart' }, h('figcaption', null, title), h('p', { class: 'muted' }, t('app.empty')));
  const max = Math.max(1, ...data.map(([, n]) => n));
  const rowH = 26;
  const labelW = 190;
  const barW = 300;
  const width = labelW + barW + 60;
  const height = data.length * rowH + 8;
  const summary = data.map(([k, n]) => `${k} ${n}`).join('，');
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'bars',
    'aria-label': t('sup.chart_label', { title, items: summary }),
  });
  data.forEach(([name, n], i) => {
    const y = i * rowH + 4;
    const w = Math.max(n > 0 ? 2 : 0, Math.round((n / max) * barW));
    root.append(
      svg('text', { x: labelW - 8, y: y + 16, 'text-anchor': 'end', class: 'bar-label' }, name),
      svg('rect', { x: labelW, y: y + 3, width: w, height: rowH - 8, rx: 2, class: 'bar' }),
      svg('text', { x: labelW + w + 6, y: y + 16, class: 'bar-value' }, String(n)));
  });
  return h('figure', { class: 'chart' }, h('figcaption', null, title), root);
}

function isoDay(d) { return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; }

export function renderSupervisor(container, ctx) {
  const disposers = [];
  let alive = true;
  disposers.push(() => { alive = false; });
  const overdueBox = h('div', { id: 'overdue-list' }, h('p', { class: 'muted' }, t('app.loading')));
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 30 * 86400000);
  const from = h('input', { type: 'date', name: 'from', value: isoDay(monthAgo) });
  const to = h('input', { type: 'date', name: 'to', value: isoDay(today) });
  const csv = h('a', { class: 'btn', id: 'csv-link', download: 'cases.csv' }, t('sup.csv'));
  const figures = h('div', { class: 'figures', id: 'figures' });
  const reportForm = h('form', { class: 'filters', novalidate: true },
    field(t('sup.from'), from, { name: 'from' }), field(t('sup.to'), to, { name: 'to' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('sup.run')), csv));

  const range = () => {
    const f = from.value ? new Date(`${from.value}T00:00:00`) : null;
    const tt = to.value ? new Date(`${to.value}T00:00:00`) : null;
    if (tt) tt.setDate(tt.getDate() + 1);
    return { from: f ? f.toISOString() : undefined, to: tt ? tt.toISOString() : undefined };
  };

  async function loadOverdue() {
    try {
      const r = await get(`/cases${qs({ overdue: 'true', limit: 200 })}`);
      replace(overdueBox, caseTable((r && r.items) || []));
    } catch (err) { replace(overdueBox, h('p', { class: 'error' }, errorText(err))); }
  }

  async function loadFigures({ quiet = false } = {}) {
    const q = qs(range());
    csv.href = `/api/v1/reports/cases.csv${q}`;
    if (!quiet) replace(figures, h('p', { class: 'muted' }, t('app.loading')));
    try {
      await loadUnits().catch(() => {});
      const s = await get(`/reports/summary${q}`) || {};
      const cat = pairs(pick(s, ['by_category', 'counts_by_category', 'categories', 'category'])).map(([k, n]) => [label('category', k), n]);
      const st = pairs(pick(s, ['by_status', 'counts_by_status', 'statuses', 'status'])).map(([k, n]) => [label('status', k), n]);
      const un = pairs(pick(s, ['by_unit', 'counts_by_unit', 'units', 'unit']), ['unit_name', 'name', 'unit_id', 'key'])
        .map(([k, n]) => [/^[0-9a-f-]{36}$/.test(k) ? unitName(k) : k, n]);
      let met = pick(s, ['deadlines', 'deadlines_met_share', 'deadline_met_share', 'share_deadlines_met', 'deadlines_met', 'on_time_share']);
      let metDetail = '';
      if (met && typeof met === 'object') {
        if (typeof met.met === 'number') metDetail = t('sup.met_detail', { met: met.met, missed: met.missed ?? 0 });
        met = pick(met, ['share_met', 'share', 'ratio', 'value']);
      }
      let med = pick(s, ['median_seconds_to_acknowledge', 'median_ack_seconds', 'median_time_to_acknowledge_s', 'median_ack_s', 'median_time_to_acknowledge_seconds', 'median_time_to_acknowledge']);
      if (med && typeof med === 'object') med = pick(med, ['seconds', 'value']);
      const total = pick(s, ['total', 'total_cases', 'cases']);
      const figure = (title, value, id, note) => h('div', { class: 'stat', id }, h('span', { class: 'stat-label' }, title),
        h('span', { class: 'stat-value' }, value), note ? h('span', { class: 'stat-note' }, note) : null);
      const metText = typeof met === 'number' ? `${Math.round((met <= 1 ? met * 100 : met) * 10) / 10}%` : t('sup.none');
      const medText = typeof med === 'number' ? fmtSeconds(med) : (typeof med === 'string' ? med : t('sup.none'));
      const totalN = typeof total === 'number' ? total : cat.reduce((a, [, n]) => a + n, 0);
      replace(figures,
        h('div', { class: 'stats' }, figure(t('sup.total'), String(totalN), 'stat-total'),
          typeof s.overdue === 'number' ? figure(t('sup.overdue_n'), String(s.overdue), 'stat-overdue') : null,
          typeof s.escalations === 'number' ? figure(t('sup.escalations_n'), String(s.escalations), 'stat-escalations') : null,
          figure(t('sup.met'), metText, 'stat-met', metDetail),
          figure(t('sup.median_ack'), medText, 'stat-median')),
        h('div', { class: 'charts' }, barChart(t('sup.by_category'), cat), barChart(t('sup.by_status'), st),
          un.length ? barChart(t('sup.by_unit'), un) : null));
      figures.append(await mediationFigures(q, barChart).catch(() => ''));
      figures.append(await hotlineFigures(q, barChart).catch(() => ''));
    } catch (err) {
      replace(figures, h('p', { class: 'error' }, errorText(err)));
    }
  }
  reportForm.addEventListener('submit', (ev) => { ev.preventDefault(); loadFigures(); });

  container.append(h('h1', null, t('sup.title')), section(t('sup.overdue'), overdueBox));
  const boardBox = h('div');
  container.append(boardBox);
  const boardCleanup = renderBoard(boardBox, ctx, { readOnly: true });
  container.append(section(t('sup.reports'), reportForm, figures));

  // Live: the overdue list and the figures follow every change (a deadline
  // met counts as on time at once), the figures at most every 2 s.
  const soon = debounce(() => { if (alive) loadOverdue(); }, 500);
  const figuresSoon = debounce(() => { if (alive) loadFigures({ quiet: true }); }, 2000);
  disposers.push(ctx.live.onEvent(() => { soon(); figuresSoon(); }));
  loadOverdue();
  loadFigures();
  return () => { boardCleanup(); disposers.forEach((d) => d()); };
}
