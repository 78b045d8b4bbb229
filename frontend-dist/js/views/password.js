// Choosing one's own password: required after signing in with a temporary
// one (an admin created the account or reset its password), and nothing
// else answers until it is done.
import { h, field } from '../dom.js';
import { t, addStrings } from '../i18n.js';
import zh from '../../i18n/account.zh-CN.js';
import { post, errorText } from '../api.js';
import { clearErrors, showError, formError, toast } from '../util.js';

const en = () => import('../../i18n/account.en.js');

export function renderPassword(container, ctx) {
  const current = h('input', { name: 'current_password', type: 'password', autocomplete: 'current-password' });
  const next = h('input', { name: 'new_password', type: 'password', autocomplete: 'new-password', minlength: '10' });
  const again = h('input', { name: 'again', type: 'password', autocomplete: 'new-password' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'password-submit' });
  const form = h('form', { class: 'login-form', novalidate: true, id: 'password-form' });
  const card = h('div', { class: 'login-card' });
  container.append(h('div', { class: 'login-wrap' }, card));
  addStrings(zh, en).then(() => {
    submit.textContent = t('pw.submit');
    form.append(
      field(t('pw.current'), current, { name: 'current_password', required: true, hint: t('pw.current_hint') }),
      field(t('pw.new'), next, { name: 'new_password', required: true, hint: t('pw.rules') }),
      field(t('pw.again'), again, { name: 'again', required: true }),
      formError(),
      h('div', { class: 'form-actions' }, submit));
    card.append(h('h1', null, t('pw.title')), h('p', { class: 'muted' }, t('pw.intro')), form);
    current.focus();
  }).catch((e) => card.append(h('p', { class: 'error', role: 'alert' }, errorText(e))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!current.value) { showError(form, { field: 'current_password' }, t('err.required')); return; }
    if (next.value.length < 10) { showError(form, { field: 'new_password' }, t('pw.too_short')); return; }
    if (next.value !== again.value) { showError(form, { field: 'again' }, t('pw.mismatch')); return; }
    submit.disabled = true;
    try {
      await post('/me/password', { current_password: current.value, new_password: next.value });
      toast(t('pw.done'));
      await ctx.signedIn();
    } catch (err) {
      const msg = err.field === 'current_password' ? t('pw.wrong_current')
        : err.field === 'new_password' ? t('pw.refused') : errorText(err);
      showError(form, err, msg);
    } finally {
      submit.disabled = false;
    }
  });
}
