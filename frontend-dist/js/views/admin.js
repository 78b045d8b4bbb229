// Administrator overview: units and users (read-only here).
import { h, replace } from '../dom.js';
import { t, label } from '../i18n.js';
import { get, errorText } from '../api.js';
import { section, regionText, unitName, loadUnits } from '../util.js';

export function renderAdmin(container) {
  const unitsBox = h('div', null, t('app.loading'));
  const usersBox = h('div', null, t('app.loading'));
  container.append(h('h1', null, t('admin.title')), section(t('admin.units'), unitsBox), section(t('admin.users'), usersBox));
  loadUnits().then((units) => {
    replace(unitsBox, h('div', { class: 'table-wrap' }, h('table', null,
      h('thead', null, h('tr', null, ['admin.name', 'admin.kind', 'admin.region', 'admin.email'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', null, units.map((u) => h('tr', null, h('td', null, u.name), h('td', null, label('unit_kind', u.kind)),
        h('td', null, regionText(u.region_code)), h('td', null, u.email || '—')))))));
  }).catch((e) => replace(unitsBox, h('p', { class: 'error' }, errorText(e))));
  get('/users?limit=200').then((r) => {
    const users = (r && r.items) || [];
    replace(usersBox, h('div', { class: 'table-wrap' }, h('table', null,
      h('thead', null, h('tr', null, ['admin.username', 'admin.display_name', 'admin.role', 'case.unit', 'admin.active'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', null, users.map((u) => h('tr', null, h('td', null, u.username), h('td', null, u.display_name || '—'),
        h('td', null, label('role', u.role)), h('td', null, unitName(u.unit_id)), h('td', null, t(u.active === false ? 'op.no' : 'op.yes'))))))));
  }).catch((e) => replace(usersBox, h('p', { class: 'error' }, errorText(e))));
}
