// Routing rules: which kind of unit receives each category (the nearest of
// that kind up the place's tree), with a preview of where a case would go.
import { h, replace, field, options } from '../../dom.js';
import { t, label } from '../../i18n.js';
import { get, api, errorText } from '../../api.js';
import { CATEGORIES } from '../../util.js';
import { regionPicker } from '../../region-picker.js';
import { panel, statusLine, table, actionButton } from './common.js';
import { UNIT_KINDS } from './units.js';

export function routingPanel() {
  const status = statusLine('routing');
  const list = h('div', null, t('app.loading'));
  const category = options(h('select', { name: 'preview_category', id: 'adm-preview-category' }),
    CATEGORIES.map((c) => [c, label('category', c)]), { value: 'domestic_violence' });
  const picker = regionPicker({ id: 'adm-route', category: () => category.value });
  category.addEventListener('change', () => picker.refresh());
  const preview = h('div', { class: 'adm-preview' },
    h('h3', null, t('adm.route.preview')), h('p', { class: 'hint' }, t('adm.route.preview_hint')),
    field(t('adm.route.category'), category), picker.el);
  const el = panel('routing', h('p', { class: 'hint' }, t('adm.route.intro')), status, list, preview);

  async function load() {
    try {
      const r = await get('/routing-rules');
      replace(list, table(['adm.route.category', 'adm.route.unit_kind', 'adm.route.custom', 'adm.actions'],
        ((r && r.items) || []).map((rule) => {
          const sel = options(h('select', { name: `rule-${rule.category}`, 'aria-label': t('adm.route.kind_for', { cat: label('category', rule.category) }) }),
            UNIT_KINDS.map((k) => [k, label('unit_kind', k)]), { value: rule.unit_kind });
          return h('tr', { dataset: { category: rule.category } },
            h('td', null, label('category', rule.category)), h('td', null, sel),
            h('td', null, rule.customised ? t('adm.route.customised') : t('adm.route.default')),
            h('td', { class: 'row-actions' }, actionButton(t('adm.save'), async () => {
              try {
                await api('PUT', `/routing-rules/${rule.category}`, { unit_kind: sel.value });
                status.textContent = t('adm.route.saved', { cat: label('category', rule.category), kind: label('unit_kind', sel.value) });
                picker.refresh();
                await load();
              } catch (e) { status.textContent = errorText(e); }
            }, { 'aria-label': t('adm.route.save_for', { cat: label('category', rule.category) }) })));
        })));
    } catch (e) {
      replace(list, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }

  load();
  return el;
}
