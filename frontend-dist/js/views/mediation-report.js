// The supervisor's mediation figures (GET /reports/mediation): registered,
// agreed, terminated by reason, performed on time, confirmation applied.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { get } from '../api.js';

/** `chart(title, rows)` draws the bars (the supervisor view's `barChart`). */
export async function mediationFigures(query, chart) {
  const f = await get(`/reports/mediation${query}`);
  const stat = (key, value, id) => h('div', { class: 'stat', id },
    h('span', { class: 'stat-label' }, t(`med.fig.${key}`)), h('span', { class: 'stat-value' }, String(value ?? 0)));
  const reasons = Object.entries(f.terminated_by_reason || {}).map(([k, n]) => [t(`med.reason.${k}`), n]);
  return h('div', { class: 'mediation-figures', id: 'mediation-figures' },
    h('h3', null, t('med.fig.title')),
    h('div', { class: 'stats' },
      stat('registered', f.registered, 'stat-med-registered'),
      stat('agreed', f.agreed, 'stat-med-agreed'),
      stat('terminated', f.terminated, 'stat-med-terminated'),
      stat('performed_on_time', f.agreements_performed_on_time, 'stat-med-performed'),
      stat('confirmation_applied', f.confirmation_applied, 'stat-med-confirmation')),
    reasons.length ? chart(t('med.fig.by_reason'), reasons) : null);
}
