// Place picker: one select per level of the region tree (province → village),
// each filled from GET /regions?parent=CODE. Keyboard-friendly by being
// plain selects. The chosen code is the deepest level picked.
import { h, nextId, options } from './dom.js';
import { t } from './i18n.js';
import { regionKids, regionChain, regionNames } from './util.js';

const LEVELS = 5;

export function regionPicker({ onChange } = {}) {
  const hidden = h('input', { type: 'hidden', name: 'region_code' });
  const chosen = h('p', { class: 'region-chosen', 'aria-live': 'polite' }, t('op.place_none'));
  const selects = [];
  const wraps = [];
  const errId = nextId('region-err');
  for (let i = 0; i < LEVELS; i += 1) {
    const sel = h('select', { id: nextId('region'), class: 'region-level', dataset: { level: String(i) }, 'aria-describedby': errId });
    const wrap = h('div', { class: 'region-cell', hidden: i > 0 },
      h('label', { for: sel.id }, t(`region.level.${i}`)), sel);
    selects.push(sel);
    wraps.push(wrap);
    sel.addEventListener('change', () => pick(i, sel.value));
  }

  function current() {
    for (let i = LEVELS - 1; i >= 0; i -= 1) if (selects[i].value) return selects[i].value;
    return '';
  }

  function update() {
    const code = current();
    hidden.value = code;
    chosen.textContent = code
      ? t('op.place_chosen', { name: regionChain(code).map((c) => regionNames.get(c)).filter(Boolean).join(' '), code })
      : t('op.place_none');
    if (onChange) onChange(code);
  }

  async function fill(level, parent, value) {
    const sel = selects[level];
    let kids = [];
    try { kids = await regionKids(parent); } catch (_) { kids = []; }
    options(sel, kids.map((r) => [r.code, r.name]), { placeholder: t('op.choose') });
    wraps[level].hidden = kids.length === 0;
    if (value && kids.some((r) => r.code === value)) sel.value = value;
    return kids.length;
  }

  async function pick(level, value) {
    for (let j = level + 1; j < LEVELS; j += 1) { options(selects[j], []); wraps[j].hidden = true; }
    if (value && level + 1 < LEVELS) await fill(level + 1, value);
    update();
  }

  /** Set a full code, loading each level on the way down. */
  async function setValue(code) {
    const chain = regionChain(code);
    await fill(0, null, chain[0]);
    for (let i = 1; i < LEVELS; i += 1) {
      if (!chain[i - 1] || selects[i - 1].value !== chain[i - 1]) { options(selects[i], []); wraps[i].hidden = true; continue; }
      await fill(i, chain[i - 1], chain[i]);
    }
    update();
  }

  const el = h('fieldset', { class: 'region-picker', dataset: { field: 'region_code' } },
    h('legend', null, t('op.place'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
    h('p', { class: 'hint' }, t('op.place_hint')),
    h('div', { class: 'region-row' }, wraps),
    chosen, hidden,
    h('p', { class: 'field-error', id: errId, hidden: true }));

  const ready = fill(0, null);
  return { el, value: () => hidden.value, setValue, ready, focus: () => selects[0].focus() };
}
