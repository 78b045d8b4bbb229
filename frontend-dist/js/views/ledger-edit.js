// The person page's edit form (`#/ledger/<id>`, the ledger's keepers):
// her name, phones (several; the server normalises them, and they are
// edited only once revealed: the masked ones are not hers to retype),
// village (the place search; village level), husband away since, living
// in the village, and her contact person (a user of a unit that keeps
// the ledger of her village: GET /ledger/contact-persons). Only what
// changed is sent, with the version read; an emptied date or "none" as
// contact person is sent as null, which clears it. A field the server
// refuses is marked where it is.
import { h, field, checkbox, options, replace } from '../dom.js';
import { t } from '../i18n.js';
import { get, errorText } from '../api.js';
import { regionText, clearErrors, showError, formError } from '../util.js';
import { searchBox } from '../region-picker.js';

function phoneRow(value, list) {
  const input = h('input', { type: 'tel', name: 'phone', maxlength: 20, value: value || '', inputmode: 'tel', 'aria-label': t('lg.phone') });
  const row = h('div', { class: 'lg-phone-row' }, input,
    h('button', { type: 'button', class: 'btn btn-small lg-phone-remove', 'aria-label': t('lg.phone_remove'), onclick: () => { row.remove(); list.dispatchEvent(new Event('change')); } }, '×'));
  return row;
}

/** The phones: one input each, editable once revealed. */
function phonesField(p, onReveal) {
  const list = h('div', { class: 'lg-phone-list', id: 'lg-edit-phones' });
  if (!p.revealed) {
    return h('div', { class: 'field', dataset: { field: 'phones' } },
      h('span', { class: 'label' }, t('lg.phones')),
      h('p', { class: 'hint' }, t('lg.phones_reveal_first'), ' ',
        h('button', { type: 'button', class: 'btn btn-small', id: 'lg-edit-reveal', onclick: onReveal }, t('lg.reveal'))),
      h('p', { class: 'field-error', hidden: true }));
  }
  (p.phones.length ? p.phones : ['']).forEach((x) => list.append(phoneRow(x, list)));
  const add = h('button', { type: 'button', class: 'btn btn-small', id: 'lg-phone-add' }, t('lg.phone_add'));
  add.addEventListener('click', () => { const r = phoneRow('', list); list.append(r); r.querySelector('input').focus(); });
  return h('fieldset', { class: 'field', dataset: { field: 'phones' } },
    h('legend', null, t('lg.phones')), h('p', { class: 'hint' }, t('lg.phones_hint')), list, add,
    h('p', { class: 'field-error', hidden: true, role: 'alert' }));
}

/** Her contact person, from the keepers of `village`. */
function contactSelect(p) {
  const sel = h('select', { name: 'contact_person_user_id', id: 'lg-contact' });
  let seq = 0;
  let filled = false;
  async function fill(village) {
    const mine = ++seq;
    filled = false;
    sel.disabled = true;
    let items = [];
    try { items = (await get(`/ledger/contact-persons?village_code=${encodeURIComponent(village)}`)).items || []; } catch (_) { items = []; }
    if (mine !== seq) return;
    const current = p.contact_person_user_id;
    const list = items.map((u) => [u.user_id, `${u.display_name}${t('lg.contact_unit', { unit: u.unit_name })}`]);
    if (current && !items.some((u) => u.user_id === current)) {
      list.unshift([current, (p.contact_person && p.contact_person.display_name) || current]);
    }
    // "None" is always there: choosing it clears her contact person.
    options(sel, list, { placeholder: t('lg.contact_none'), value: current || '' });
    sel.disabled = false;
    filled = true;
  }
  return { sel, fill, filled: () => filled };
}

export function editForm(p, save, onReveal) {
  const name = h('input', { type: 'text', name: 'name', maxlength: 64, value: p.name, required: true });
  let village = p.village_code;
  const placeNote = h('p', { class: 'hint', id: 'lg-edit-village', 'aria-live': 'polite' }, regionText(village));
  const contact = contactSelect(p);
  const search = searchBox((code, hit) => {
    village = code;
    replace(placeNote, hit && hit.path ? hit.path.slice(-3).join(' ') : regionText(code));
    contact.fill(code);
  }, { id: 'lg-village-search', labelText: t('lg.village_search') });
  search.input.name = 'village';
  const away = h('input', { type: 'date', name: 'husband_away_since', value: p.husband_away_since || '' });
  const inVillage = h('input', { type: 'checkbox', name: 'in_village', checked: !!p.in_village });
  const phones = phonesField(p, onReveal);
  const btn = h('button', { type: 'submit', class: 'btn btn-primary' }, t('lg.save'));
  const form = h('form', { id: 'lg-edit', novalidate: true },
    field(t('lg.field.name'), name, { name: 'name', required: true }),
    phones,
    h('div', { class: 'field', dataset: { field: 'village_code' } },
      h('span', { class: 'label' }, t('lg.village')), placeNote, search.el,
      h('p', { class: 'field-error', hidden: true })),
    field(t('lg.husband_away_since'), away, { name: 'husband_away_since', hint: t('lg.away_hint') }),
    checkbox(t('lg.in_village'), inVillage, { name: 'in_village' }),
    field(t('lg.contact_person'), contact.sel, { name: 'contact_person_user_id', hint: t('lg.contact_hint') }),
    formError(),
    h('div', { class: 'form-actions' }, btn));
  contact.fill(village);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const patch = {};
    if (name.value.trim() !== p.name) patch.name = name.value;
    if (p.revealed) {
      const list = [...form.querySelectorAll('input[name=phone]')].map((i) => i.value.trim()).filter(Boolean);
      if (list.join(',') !== p.phones.join(',')) patch.phones = list;
    }
    if (village !== p.village_code) patch.village_code = village;
    // A half-typed date reads as empty: refuse it rather than clear hers.
    if (away.validity.badInput) { showError(form, { field: 'husband_away_since', message: t('err.field.husband_away_since') }); return; }
    if ((away.value || null) !== (p.husband_away_since || null)) patch.husband_away_since = away.value || null;
    if (inVillage.checked !== !!p.in_village) patch.in_village = inVillage.checked;
    // Only a list that has arrived says what she chose (an empty one
    // still loading must not clear her contact person).
    const chosen = contact.sel.value || null;
    if (contact.filled() && chosen !== (p.contact_person_user_id || null)) patch.contact_person_user_id = chosen;
    if (!Object.keys(patch).length) { showError(form, { message: t('lg.nothing_changed') }, t('lg.nothing_changed')); return; }
    btn.disabled = true;
    try {
      await save(patch);
    } catch (err) {
      showError(form, err, errorText(err));
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}
