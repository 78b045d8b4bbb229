// What the admin page's parts share: a panel with a heading, a status line
// for the outcome of the last change, and yes/no.
import { h } from '../../dom.js';
import { t } from '../../i18n.js';

export function panel(name, ...children) {
  return h('section', { class: 'panel', 'aria-labelledby': `adm-h-${name}` },
    h('h2', { id: `adm-h-${name}` }, t(`adm.part.${name}`)), ...children);
}

/** A polite live line under a panel's heading: what the last change did. */
export function statusLine(name) {
  return h('p', { class: 'adm-status', id: `adm-status-${name}`, role: 'status', 'aria-live': 'polite' });
}

export const yesNo = (v) => t(v ? 'op.yes' : 'op.no');

/** A table; on a phone each row is a card whose cells carry their heading. */
export function table(headKeys, rows) {
  const heads = headKeys.map((k) => t(k));
  for (const tr of rows) [...tr.children].forEach((td, i) => { if (heads[i]) td.dataset.label = heads[i]; });
  return h('div', { class: 'table-wrap' }, h('table', { class: 'adm' },
    h('thead', null, h('tr', null, heads.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, rows)));
}

/** A small button that runs `fn`, disabled while it runs. */
export function actionButton(text, fn, attrs = {}) {
  const b = h('button', { type: 'button', class: 'btn btn-small', ...attrs }, text);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try { await fn(); } finally { b.disabled = false; }
  });
  return b;
}

/** The parts tell each other what changed (a new unit for the users' form). */
export const bus = new EventTarget();
