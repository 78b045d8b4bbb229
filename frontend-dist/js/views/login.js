// Sign-in form. The server sets the HttpOnly session cookie; we keep no token.
import { h, field } from '../dom.js';
import { t } from '../i18n.js';
import { post, errorText } from '../api.js';
import { clearErrors, showError, formError } from '../util.js';

export function renderLogin(container, ctx, onSignedIn) {
  const user = h('input', { name: 'username', autocomplete: 'username', autocapitalize: 'off', spellcheck: 'false' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'login-submit' }, t('login.submit'));
  const form = h('form', { class: 'login-form', novalidate: true, id: 'login-form' },
    field(t('login.username'), user, { name: 'username', required: true }),
    field(t('login.password'), pass, { name: 'password', required: true }),
    formError(),
    h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!user.value.trim()) { showError(form, { field: 'username', message: t('err.required') }); return; }
    if (!pass.value) { showError(form, { field: 'password', message: t('err.required') }); return; }
    submit.disabled = true;
    submit.textContent = t('login.busy');
    try {
      await post('/auth/login', { username: user.value.trim(), password: pass.value });
      pass.value = '';
      await onSignedIn();
    } catch (err) {
      const msg = err.code === 'invalid_credentials' || err.status === 401 ? t('login.failed')
        : err.status === 429 ? t('login.locked') : errorText(err);
      showError(form, { message: msg }, msg);
      pass.select();
    } finally {
      submit.disabled = false;
      submit.textContent = t('login.submit');
    }
  });
  container.append(h('div', { class: 'login-wrap' },
    h('div', { class: 'login-card' },
      h('h1', null, t('login.title')),
      h('p', { class: 'muted' }, t('login.intro')),
      form)));
  user.focus();
}
