// What a call came to (issue 18): ending a call that opened no case asks
// for its disposition (most calls are consultations answered on the spot),
// so the hotline's figures count every answered call. The question waits
// beside the next call instead of blocking it: the operator may answer
// now, or skip.
import { h, field, options, checkbox } from '../dom.js';
import { t } from '../i18n.js';
import { errorText } from '../api.js';
import { clearErrors, showError, formError, colon } from '../util.js';

const KINDS = ['consultation_answered', 'referred_to_110', 'referred_to_12345', 'silent', 'harassment', 'wrong_number'];
const TOPICS = ['legal', 'marriage_family', 'psychological', 'health', 'employment', 'other'];

/**
 * The form for the call to `phone` that just ended; `save(body)` records
 * it (an API error shows in the form), `close()` removes it.
 */
export function dispositionForm(phone, save, close) {
  const kind = options(h('select', { name: 'kind', id: 'disp-kind' }), KINDS.map((k) => [k, t(`disp.kind.${k}`)]));
  const boxes = TOPICS.map((tp) => h('input', { type: 'checkbox', name: `topic-${tp}`, value: tp }));
  const topics = h('fieldset', { class: 'disp-topics', dataset: { field: 'topics' } },
    h('legend', null, t('disp.topics')), boxes.map((b, i) => checkbox(t(`disp.topic.${TOPICS[i]}`), b)),
    h('p', { class: 'field-error', hidden: true }));
  const notes = h('textarea', { name: 'notes', rows: 2, maxlength: 2000 });
  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'disp-save' }, t('disp.save'));
  const skip = h('button', { type: 'button', class: 'btn', id: 'disp-skip' }, t('disp.skip'));
  const form = h('form', { class: 'case-form disp-form', id: 'disposition-form', novalidate: true },
    h('fieldset', null, h('legend', null, `${colon(t('disp.title'))}${phone}`), h('p', { class: 'hint' }, t('disp.help')),
      field(t('disp.kind'), kind, { name: 'kind', required: true }), topics,
      field(t('disp.notes'), notes, { name: 'notes' }), formError(),
      h('div', { class: 'form-actions' }, saveBtn, skip)));
  const syncTopics = () => { topics.hidden = kind.value !== 'consultation_answered'; };
  kind.addEventListener('change', syncTopics);
  syncTopics();
  skip.addEventListener('click', close);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = {
      kind: kind.value,
      topics: kind.value === 'consultation_answered' ? boxes.filter((b) => b.checked).map((b) => b.value) : [],
      notes: notes.value.trim() || undefined,
    };
    saveBtn.disabled = true;
    try {
      await save(body);
      close();
    } catch (err) {
      showError(form, err, errorText(err));
    } finally { saveBtn.disabled = false; }
  });
  return form;
}
