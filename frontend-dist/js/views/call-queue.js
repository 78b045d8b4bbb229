// Calls waiting beside the intake form. A ring never touches a form in
// progress: it joins this list with its screen pop, and the operator
// switches when she chooses; a call put aside keeps its draft here.
// Kept in sessionStorage so a reload or a page change loses nothing.
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { fmtTime, riskBadge } from '../util.js';
import { ledgerBox } from './ledger-box.js';

const KEY = 'lianxin.calls.waiting';

function load() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || '[]') || []; } catch (_) { return []; }
}
function store(list) {
  try { sessionStorage.setItem(KEY, JSON.stringify(list)); } catch (_) { /* full */ }
}

/** Add a ringing call (from the exchange) or a call put aside (with its draft). */
export function enqueueCall(entry) {
  const list = load().filter((c) => !(entry.ref && c.ref === entry.ref));
  list.push({ at: new Date().toISOString(), ...entry });
  store(list);
}

export function waitingCalls() { return load(); }

/** Remove and return one waiting call. */
export function takeCall(key) {
  const list = load();
  const i = list.findIndex((c) => c.key === key);
  if (i < 0) return null;
  const [c] = list.splice(i, 1);
  store(list);
  return c;
}

/** The short screen pop of a waiting call: its cases and their highest risk. */
function popLine(c) {
  const cases = (c.history && c.history.cases) || [];
  const order = ['none', 'elevated', 'high', 'imminent'];
  const top = cases.reduce((m, k) => (order.indexOf(k.risk_level) > order.indexOf(m) ? k.risk_level : m), 'none');
  return h('span', { class: 'wait-pop' },
    cases.length ? [t('calls.cases', { n: cases.length }), ' ', riskBadge(top)] : t('calls.no_history'),
    ledgerBox(c.history, { compact: true }));
}

/** The list, re-rendered on every change; `onTake(key)` switches to a call. */
export function callQueuePanel(onTake) {
  const list = h('ul', { class: 'wait-list', role: 'list' });
  const title = h('h2', { id: 'waiting-title' });
  const el = h('section', { class: 'panel waiting-calls', id: 'waiting-calls', 'aria-labelledby': 'waiting-title', hidden: true }, title, list);
  function render() {
    const calls = load();
    el.hidden = calls.length === 0;
    title.textContent = t('calls.waiting', { n: calls.length });
    replace(list, calls.map((c) => h('li', { class: ['waiting-call', c.draft ? 'has-draft' : null], dataset: { key: c.key } },
      h('div', { class: 'wait-head' },
        h('strong', { class: 'wait-phone' }, c.phone || t('calls.unknown')), ' ',
        h('span', { class: 'muted' }, fmtTime(c.at)),
        c.draft ? h('span', { class: 'badge draft-kept' }, t('calls.draft_kept')) : h('span', { class: 'badge ringing-badge' }, t('calls.ringing'))),
      popLine(c),
      h('button', {
        type: 'button', class: 'btn btn-small take-call', 'aria-label': t('calls.take_label', { phone: c.phone || '' }),
        onclick: () => onTake(c.key),
      }, c.draft ? t('calls.resume') : t('calls.take')))));
  }
  render();
  return { el, render };
}
