// 帮助 (issue 19 item 16): a page per role — what each screen shows (with
// the screenshot tests/e2e/help.test.mjs takes of it from the demo), what
// the colours and countdowns mean, what to do when a deadline is missed or
// the connection drops. Chinese first; a shorter English version. The text
// lives in help/<topic>.<lang>.js, loaded with this page only.
import { h, replace } from '../dom.js';
import { t, getLang, label } from '../i18n.js';
import { errorText } from '../api.js';
import { pageStyle } from '../page-style.js';

/** The help topic of each role. */
export const TOPIC_OF = {
  operator: 'operator', station_worker: 'unit', department: 'unit', mediator: 'mediator',
  police_liaison: 'police', supervisor: 'supervisor', admin: 'admin',
};
export const TOPICS = ['operator', 'unit', 'mediator', 'police', 'supervisor', 'admin'];
/** A screen of one record opens from its list. */
const LIST_OF = { case: 'cases', 'ledger-person': 'ledger' };
const ROLE_OF = { operator: 'operator', unit: 'station_worker', mediator: 'mediator', police: 'police_liaison', supervisor: 'supervisor', admin: 'admin' };

export function renderHelp(container, ctx, arg) {
  const own = TOPIC_OF[ctx.me.role] || 'operator';
  const topic = TOPICS.includes(arg) ? arg : own;
  const lang = getLang() === 'en' ? 'en' : 'zh-CN';
  const body = h('div', { class: 'help-page', dataset: { topic } }, h('p', { class: 'loading' }, t('app.loading')));
  container.append(body);
  Promise.all([import(`../../help/${topic}.${lang}.js`), import(`../../help/common.${lang}.js`), pageStyle('pages')])
    .then(([page, common]) => replace(body, ...helpPage(page.default, common.default, topic === own)))
    .catch((e) => replace(body, h('p', { class: 'error', role: 'alert' }, errorText(e))));
  return null;

  function helpPage(page, common, mine) {
    return [
      h('h1', null, page.title),
      h('p', { class: 'help-note' }, page.intro),
      page.sections.map((s) => h('section', { dataset: { screen: s.screen } },
        h('h2', null, s.title),
        h('figure', null,
          h('img', { src: `/help/img/${s.shot}`, alt: s.alt, loading: 'lazy', width: '880', height: '560', dataset: { shot: s.shot } }),
          h('figcaption', null, s.alt)),
        s.paras.map((p) => h('p', null, p)),
        mine ? h('p', null, h('a', { href: `#/${LIST_OF[s.screen] || s.screen}` }, `${t('nav.help_open')}：${s.title}`)) : null)),
      colours(common.colours),
      h('section', { id: 'help-missed' }, h('h2', null, page.missed.title), page.missed.paras.map((p) => h('p', null, p))),
      h('section', { id: 'help-offline' }, h('h2', null, common.offline.title), common.offline.paras.map((p) => h('p', null, p))),
      h('nav', { class: 'help-roles', 'aria-label': common.other }, h('h2', null, common.other), h('ul', null,
        TOPICS.filter((x) => x !== topic).map((x) => h('li', null, h('a', { href: `#/help/${x}` }, label('role', ROLE_OF[x])))))),
    ];
  }
}

/** The legend, drawn with the console's own classes: it cannot drift. */
function colours(c) {
  const row = ([cls, sample, meaning], kind) => [
    h('span', { class: kind === 'cd' ? `countdown ${cls}` : `badge ${cls}` }, sample), h('span', null, meaning)];
  return h('section', { id: 'help-colours' }, h('h2', null, c.title), h('p', null, c.intro),
    h('div', { class: 'help-legend' }, c.countdowns.map((x) => row(x, 'cd'))),
    h('div', { class: 'help-legend' }, c.risks.map((x) => row(x, 'risk'))),
    h('p', null, c.rows));
}
