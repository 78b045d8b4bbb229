// Administration (issue 19 item 12): units, users, routing rules, the
// deadline clocks, the mail outbox and the scheduled jobs. Each part is a
// module of views/admin/; its strings (i18n/admin.*.js) load with the page.
import { h, replace } from '../dom.js';
import { t, addStrings } from '../i18n.js';
import zh from '../../i18n/admin.zh-CN.js';
import { errorText } from '../api.js';
import { pageStyle } from '../page-style.js';

const en = () => import('../../i18n/admin.en.js');

const PARTS = [
  ['units', () => import('./admin/units.js').then((m) => m.unitsPanel)],
  ['users', () => import('./admin/users.js').then((m) => m.usersPanel)],
  ['routing', () => import('./admin/routing.js').then((m) => m.routingPanel)],
  ['deadlines', () => import('./admin/settings.js').then((m) => m.deadlinesPanel)],
  ['outbox', () => import('./admin/settings.js').then((m) => m.outboxPanel)],
  ['jobs', () => import('./admin/settings.js').then((m) => m.jobsPanel)],
];

export function renderAdmin(container, ctx) {
  const body = h('div', { class: 'admin-parts' }, h('p', { class: 'loading' }, t('app.loading')));
  container.append(h('h1', null, t('admin.title')), body);
  Promise.all([addStrings(zh, en), pageStyle('pages'), ...PARTS.map(([, load]) => load())]).then(([, , ...panels]) => {
    const toc = h('nav', { class: 'admin-toc', 'aria-label': t('adm.toc') }, h('ul', null,
      PARTS.map(([name]) => h('li', null, h('a', { href: `#adm-${name}`, onclick: (e) => jump(e, name) }, t(`adm.part.${name}`))))));
    replace(body, toc, PARTS.map(([name], i) => h('div', { id: `adm-${name}`, class: 'admin-part' }, panels[i](ctx))));
  }).catch((e) => replace(body, h('p', { class: 'error', role: 'alert' }, errorText(e))));
}

// The page's anchors must not change the route (the hash is the router's).
function jump(e, name) {
  e.preventDefault();
  const el = document.getElementById(`adm-${name}`);
  if (el) { el.scrollIntoView({ block: 'start' }); const head = el.querySelector('h2'); if (head) { head.tabIndex = -1; head.focus({ preventScroll: true }); } }
}
