// Units: create, edit (name, kind, place, email, active) and the duty phone
// that receives the escalation texts. Every change is audited server-side.
import { h, replace, field, checkbox, options } from '../../dom.js';
import { t, label } from '../../i18n.js';
import { get, api, errorText } from '../../api.js';
import { regionText, resetCaches, clearErrors, showError, formError, loadUnits } from '../../util.js';
import { regionPicker } from '../../region-picker.js';
import { panel, statusLine, table, yesNo, actionButton, bus } from './common.js';

export const UNIT_KINDS = ['hotline_center', 'rights_station', 'womens_home', 'mediation_committee', 'police',
  'legal_aid', 'civil_affairs', 'health', 'human_resources', 'womens_federation', 'village_committee',
  'social_organization', 'agriculture', 'disabled_persons_federation', 'justice_office', 'township_government'];

export function unitsPanel() {
  const status = statusLine('units');
  const formBox = h('div', { class: 'adm-form-box' });
  const list = h('div', null, t('app.loading'));
  const add = h('button', { type: 'button', class: 'btn', id: 'adm-unit-new', onclick: () => openForm(null) }, t('adm.unit.new'));
  const el = panel('units', status, h('div', { class: 'toolbar' }, add), formBox, list);
  let phones = new Map();

  async function load() {
    try {
      const [units, ph] = await Promise.all([get('/units'), get('/admin/duty-phones')]);
      phones = new Map(((ph && ph.items) || []).map((p) => [p.unit_id, p.duty_phone]));
      const items = (units && units.items) || [];
      replace(list, table(['admin.name', 'admin.kind', 'admin.region', 'admin.email', 'adm.unit.duty_phone', 'admin.active', 'adm.actions'],
        items.map((u) => h('tr', { dataset: { id: u.id, name: u.name } },
          h('td', null, u.name), h('td', null, label('unit_kind', u.kind)), h('td', null, regionText(u.region_code)),
          h('td', null, u.email || '—'), h('td', null, phones.get(u.id) || '—'), h('td', null, yesNo(u.active)),
          h('td', { class: 'row-actions' }, actionButton(t('adm.edit'), () => openForm(u), { 'aria-label': t('adm.unit.edit_named', { name: u.name }) }))))));
    } catch (e) {
      replace(list, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }

  function openForm(unit) {
    const kind = options(h('select', { name: 'kind' }), UNIT_KINDS.map((k) => [k, label('unit_kind', k)]), { value: unit ? unit.kind : 'rights_station' });
    const name = h('input', { name: 'name', value: unit ? unit.name : '', maxlength: '200' });
    const email = h('input', { name: 'email', type: 'email', value: unit && unit.email ? unit.email : '' });
    const phone = h('input', { name: 'duty_phone', type: 'tel', value: unit ? phones.get(unit.id) || '' : '' });
    const active = h('input', { type: 'checkbox', name: 'active', checked: unit ? unit.active : true });
    const picker = regionPicker({ id: 'adm-unit-region' });
    if (unit) picker.ready.then(() => picker.setValue(unit.region_code));
    const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'adm-unit-save' }, t(unit ? 'adm.save' : 'adm.unit.create'));
    const cancel = h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => replace(formBox) }, t('adm.cancel'));
    const form = h('form', { class: 'case-form adm-form', id: 'adm-unit-form', novalidate: true },
      h('h3', null, unit ? t('adm.unit.edit_named', { name: unit.name }) : t('adm.unit.new')),
      h('div', { class: 'grid-2' },
        field(t('admin.name'), name, { name: 'name', required: true }),
        field(t('admin.kind'), kind, { name: 'kind', required: true })),
      picker.el,
      h('div', { class: 'grid-2' },
        field(t('admin.email'), email, { name: 'email', hint: t('adm.unit.email_hint') }),
        field(t('adm.unit.duty_phone'), phone, { name: 'duty_phone', hint: t('adm.unit.phone_hint') })),
      unit ? checkbox(t('adm.unit.active'), active, { name: 'active' }) : null,
      formError(),
      h('div', { class: 'form-actions' }, save, cancel));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      if (!name.value.trim()) { showError(form, { field: 'name' }, t('err.required')); return; }
      if (!picker.value()) { showError(form, { field: 'region_code' }, t('err.field.region_code')); return; }
      save.disabled = true;
      try {
        const body = { kind: kind.value, name: name.value.trim(), region_code: picker.value(), email: email.value.trim() || null };
        if (unit) body.active = active.checked;
        const saved = unit ? await api('PATCH', `/units/${unit.id}`, body) : await api('POST', '/units', body);
        const before = unit ? phones.get(unit.id) || '' : '';
        if (phone.value.trim() !== before) await api('PUT', `/units/${saved.id}/duty-phone`, { duty_phone: phone.value.trim() || null });
        status.textContent = t(unit ? 'adm.unit.saved' : 'adm.unit.created', { name: saved.name });
        replace(formBox);
        resetCaches();
        loadUnits().catch(() => {});
        bus.dispatchEvent(new Event('units'));
        await load();
      } catch (err) {
        showError(form, err);
      } finally {
        save.disabled = false;
      }
    });
    replace(formBox, form);
    name.focus();
  }

  load();
  return el;
}
