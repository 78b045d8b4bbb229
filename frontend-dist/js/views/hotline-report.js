// The supervisor's hotline figures (GET /reports/hotline, issue 18): her
// region's callbacks by kind and status, and satisfaction (answers, rate,
// cases reopened as unsatisfied).
import { h } from '../dom.js';
import './hotline-strings.js';
import { t } from '../i18n.js';
import { get } from '../api.js';

const sum = (o) => Object.values(o || {}).reduce((a, n) => a + (Number(n) || 0), 0);

/** `chart(title, rows)` draws the bars (the supervisor view's `barChart`). */
export async function hotlineFigures(query, chart) {
  const f = await get(`/reports/hotline${query}`);
  const s = f.satisfaction || {};
  const stat = (key, value, id) => h('div', { class: 'stat', id },
    h('span', { class: 'stat-label' }, t(`hfig.${key}`)), h('span', { class: 'stat-value' }, String(value)));
  const rate = typeof s.rate === 'number' ? `${Math.round(s.rate * 1000) / 10}%` : t('sup.none');
  const kinds = Object.entries(f.callbacks || {}).map(([k, byStatus]) => [t(`cb.kind.${k}`), sum(byStatus)]);
  const answers = Object.entries(s.by_answer || {}).map(([k, n]) => [t(`cb.sat.${k}`), Number(n) || 0]);
  return h('div', { class: 'hotline-figures', id: 'hotline-figures' },
    h('h3', null, t('hfig.title')),
    h('div', { class: 'stats' },
      stat('asked', s.asked ?? 0, 'stat-hl-asked'),
      stat('rate', rate, 'stat-hl-rate'),
      stat('reopened', s.reopened ?? 0, 'stat-hl-reopened')),
    h('div', { class: 'charts' }, chart(t('hfig.callbacks'), kinds),
      answers.length ? chart(t('hfig.by_answer'), answers) : null));
}
