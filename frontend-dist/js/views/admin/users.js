// Users: create (role and unit; the server makes a temporary password, shown
// here once), deactivate and reactivate, reset the password, lift the login
// throttle. Every change is audited server-side.
import { h, replace, field, options } from '../../dom.js';
import { t, label } from '../../i18n.js';
import { get, api, post, errorText } from '../../api.js';
import { clearErrors, showError, formError } from '../../util.js';
import { panel, statusLine, table, yesNo, actionButton, bus } from './common.js';

const ROLES = ['operator', 'station_worker', 'mediator', 'police_liaison', 'department', 'supervisor', 'admin'];

export function usersPanel(ctx) {
  const status = statusLine('users');
  const secret = h('div', { class: 'adm-secret', id: 'adm-temp-box', hidden: true, role: 'alert' });
  const formBox = h('div', { class: 'adm-form-box' });
  const list = h('div', null, t('app.loading'));
  const add = h('button', { type: 'button', class: 'btn', id: 'adm-user-new', onclick: () => openForm() }, t('adm.user.new'));
  const el = panel('users', status, secret, h('div', { class: 'toolbar' }, add), formBox, list);
  let units = [];

  /** The temporary password, once: the admin tells the user in person or by phone. */
  function showSecret(user) {
    replace(secret,
      h('p', null, t('adm.user.temp_for', { user: user.username })),
      h('p', null, h('code', { class: 'adm-temp', id: 'adm-temp-password' }, user.temporary_password)),
      h('p', { class: 'hint' }, t('adm.user.temp_hint')),
      h('button', { type: 'button', class: 'btn btn-small', onclick: () => { replace(secret); secret.hidden = true; } }, t('adm.user.temp_done')));
    secret.hidden = false;
    secret.scrollIntoView({ block: 'nearest' });
  }

  async function load() {
    try {
      const [us, un, locks] = await Promise.all([get('/users'), get('/units'), get('/admin/lockouts')]);
      units = (un && un.items) || [];
      const unitName = (id) => (units.find((u) => u.id === id) || {}).name || '—';
      const locked = new Map(((locks && locks.items) || []).map((l) => [l.user_id, l]));
      replace(list, table(['admin.username', 'admin.display_name', 'admin.role', 'case.unit', 'admin.active', 'adm.user.state', 'adm.actions'],
        ((us && us.items) || []).map((u) => row(u, unitName(u.unit_id), locked.get(u.id)))));
    } catch (e) {
      replace(list, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }

  function row(u, unitText, lock) {
    const state = [];
    if (u.must_change_password) state.push(t('adm.user.must_change'));
    if (lock) state.push(t(lock.locked ? 'adm.user.locked' : 'adm.user.failures', { n: lock.failures }));
    const self = ctx.me && ctx.me.id === u.id;
    const named = (key) => ({ 'aria-label': t(key, { user: u.username }) });
    const act = async (fn, doneKey) => {
      try {
        const r = await fn();
        status.textContent = t(doneKey, { user: u.username });
        if (r && r.temporary_password) showSecret(r);
        await load();
      } catch (e) { status.textContent = errorText(e); }
    };
    return h('tr', { dataset: { id: u.id, username: u.username } },
      h('td', null, u.username), h('td', null, u.display_name || '—'), h('td', null, label('role', u.role)),
      h('td', null, unitText), h('td', null, yesNo(u.active !== false)), h('td', null, state.join('；') || '—'),
      h('td', { class: 'row-actions' }, self ? t('adm.user.you') : [
        actionButton(t(u.active === false ? 'adm.user.reactivate' : 'adm.user.deactivate'),
          () => act(() => api('PATCH', `/users/${u.id}`, { active: u.active === false }), u.active === false ? 'adm.user.reactivated' : 'adm.user.deactivated'),
          { ...named(u.active === false ? 'adm.user.reactivate_named' : 'adm.user.deactivate_named'), dataset: { act: 'active' } }), ' ',
        actionButton(t('adm.user.reset'), () => act(() => post(`/users/${u.id}/reset-password`), 'adm.user.reset_done'),
          { ...named('adm.user.reset_named'), dataset: { act: 'reset' } }),
        lock ? [' ', actionButton(t('adm.user.unlock'), () => act(() => post(`/users/${u.id}/unlock`), 'adm.user.unlocked'),
          { ...named('adm.user.unlock_named'), dataset: { act: 'unlock' } })] : null,
      ]));
  }

  function openForm() {
    const username = h('input', { name: 'username', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', maxlength: '64' });
    const display = h('input', { name: 'display_name', maxlength: '128' });
    const role = options(h('select', { name: 'role' }), ROLES.map((r) => [r, label('role', r)]), { placeholder: t('op.choose') });
    const unit = options(h('select', { name: 'unit_id' }), units.filter((u) => u.active).map((u) => [u.id, u.name]), { placeholder: t('adm.user.no_unit') });
    const email = h('input', { name: 'email', type: 'email' });
    const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'adm-user-save' }, t('adm.user.create'));
    const cancel = h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => replace(formBox) }, t('adm.cancel'));
    const form = h('form', { class: 'case-form adm-form', id: 'adm-user-form', novalidate: true },
      h('h3', null, t('adm.user.new')),
      h('div', { class: 'grid-2' },
        field(t('admin.username'), username, { name: 'username', required: true, hint: t('adm.user.username_hint') }),
        field(t('admin.display_name'), display, { name: 'display_name', required: true })),
      h('div', { class: 'grid-2' },
        field(t('admin.role'), role, { name: 'role', required: true }),
        field(t('case.unit'), unit, { name: 'unit_id', hint: t('adm.user.unit_hint') })),
      field(t('admin.email'), email, { name: 'email', hint: t('adm.user.email_hint') }),
      h('p', { class: 'hint' }, t('adm.user.password_note')),
      formError(),
      h('div', { class: 'form-actions' }, save, cancel));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      if (!username.value.trim()) { showError(form, { field: 'username' }, t('err.required')); return; }
      if (!role.value) { showError(form, { field: 'role' }, t('err.required')); return; }
      save.disabled = true;
      try {
        const created = await post('/users', {
          username: username.value.trim(), display_name: display.value.trim() || null, role: role.value,
          unit_id: unit.value || null, email: email.value.trim() || null,
        });
        status.textContent = t('adm.user.created', { user: created.username });
        replace(formBox);
        showSecret(created);
        await load();
      } catch (err) {
        showError(form, err);
      } finally {
        save.disabled = false;
      }
    });
    replace(formBox, form);
    username.focus();
  }

  const onUnits = () => { if (!el.isConnected) { bus.removeEventListener('units', onUnits); return; } load(); };
  bus.addEventListener('units', onUnits);
  load();
  return el;
}
