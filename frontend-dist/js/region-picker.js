// Place picker: a type-ahead search over county, township and village names
// (GET /regions?q=, each hit with its hierarchy), and below it one select per
// level (province → village) for browsing. The only province is chosen at
// once. A level's answer that arrives after the operator moved on is dropped,
// so a late reply never empties the level below. The note under the picker
// says where the case would go (GET /routing/preview) and warns when it stays
// with the hotline for manual dispatch.
import { h, nextId, options, replace } from './dom.js';
import { t, label } from './i18n.js';
import { get } from './api.js';
import { regionKids, regionChain, regionNames, debounce } from './util.js';

const LEVELS = 5;

// `id` prefixes the element ids, for a second picker on one page.
export function regionPicker({ onChange, category, id = 'region' } = {}) {
  const hidden = h('input', { type: 'hidden', name: 'region_code' });
  const chosen = h('p', { class: 'region-chosen', 'aria-live': 'polite' }, t('op.place_none'));
  const routeNote = h('p', { class: 'region-route', id: `${id}-route`, 'aria-live': 'polite', hidden: true });
  const errId = nextId('region-err');
  const selects = [];
  const wraps = [];
  const seq = new Array(LEVELS).fill(0); // the latest request per level
  for (let i = 0; i < LEVELS; i += 1) {
    const sel = h('select', { id: nextId('region'), class: 'region-level', dataset: { level: String(i) }, 'aria-describedby': errId });
    const wrap = h('div', { class: 'region-cell', hidden: i > 0 },
      h('label', { for: sel.id }, t(`region.level.${i}`)), sel);
    selects.push(sel);
    wraps.push(wrap);
    sel.addEventListener('change', () => pick(i, sel.value));
  }
  const search = searchBox((code) => setValue(code).then(() => selects[Math.max(0, regionChain(code).length - 1)].focus()),
    { id: id === 'region' ? 'region-search' : `${id}-search` });

  function current() {
    for (let i = LEVELS - 1; i >= 0; i -= 1) if (selects[i].value) return selects[i].value;
    return '';
  }

  let routeSeq = 0;
  async function preview(code) {
    const cat = category ? category() : '';
    const mine = ++routeSeq;
    if (!code || !cat) { routeNote.hidden = true; return; }
    try {
      const r = await get(`/routing/preview?category=${encodeURIComponent(cat)}&region_code=${encodeURIComponent(code)}`);
      if (mine !== routeSeq) return;
      routeNote.hidden = false;
      routeNote.className = `region-route ${r.dispatched ? 'route-ok' : 'route-manual'}`;
      routeNote.dataset.dispatched = String(r.dispatched);
      routeNote.textContent = r.dispatched
        ? t('route.preview_unit', { unit: r.unit_name || '', level: t(`region.level.${(r.level || 1) - 1}`) })
        : t('route.preview_manual', { kind: label('unit_kind', r.unit_kind) });
    } catch (_) {
      if (mine === routeSeq) routeNote.hidden = true;
    }
  }

  function update() {
    const code = current();
    hidden.value = code;
    const depth = regionChain(code).length;
    const below = depth > 0 && depth < LEVELS && !wraps[depth].hidden && selects[depth].options.length > 1;
    chosen.textContent = code
      ? t('op.place_chosen', { name: regionChain(code).map((c) => regionNames.get(c)).filter(Boolean).join(' '), code })
        + (below ? t('op.place_more', { level: t(`region.level.${depth}`) }) : '')
      : t('op.place_none');
    preview(code);
    if (onChange) onChange(code);
  }

  /** Fill `level` with the children of `parent`; a stale answer is dropped. */
  async function fill(level, parent, value) {
    const mine = ++seq[level];
    const sel = selects[level];
    sel.disabled = true;
    let kids = [];
    try { kids = await regionKids(parent); } catch (_) { kids = []; }
    if (mine !== seq[level]) return -1;
    sel.disabled = false;
    options(sel, kids.map((r) => [r.code, r.name]), { placeholder: t('op.choose') });
    wraps[level].hidden = kids.length === 0;
    if (value && kids.some((r) => r.code === value)) sel.value = value;
    else if (level === 0 && kids.length === 1) sel.value = kids[0].code; // the only province
    // Nothing to choose at the only province: no Tab stop for it either.
    if (level === 0) sel.tabIndex = kids.length === 1 ? -1 : 0;
    return kids.length;
  }

  function emptyBelow(level) {
    for (let j = level + 1; j < LEVELS; j += 1) { seq[j] += 1; options(selects[j], []); selects[j].disabled = false; wraps[j].hidden = true; }
  }

  async function pick(level, value) {
    emptyBelow(level);
    update();
    if (value && level + 1 < LEVELS && await fill(level + 1, value) >= 0) update();
  }

  /** Set a full code, loading each level on the way down. */
  async function setValue(code) {
    const chain = regionChain(code);
    emptyBelow(0);
    if (await fill(0, null, chain[0]) < 0) return;
    for (let i = 1; i < LEVELS; i += 1) {
      const parent = selects[i - 1].value;
      if (!parent) break;
      if (await fill(i, parent, chain[i]) < 0) return;
      if (!chain[i]) break;
    }
    update();
  }

  const el = h('fieldset', { class: 'region-picker', dataset: { field: 'region_code' } },
    h('legend', null, t('op.place'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
    search.el,
    h('p', { class: 'hint' }, t('op.place_hint')),
    h('div', { class: 'region-row' }, wraps),
    chosen, routeNote, hidden,
    h('p', { class: 'field-error', id: errId, hidden: true }));

  // The only province is chosen and its cities shown without a click.
  const ready = fill(0, null).then((n) => { if (n === 1) return pick(0, selects[0].value); return null; });
  return {
    el, value: () => hidden.value, setValue, ready, focus: () => search.input.focus(),
    refresh: () => preview(hidden.value),
    /** True while a level is still loading: the place may get deeper. */
    busy: () => selects.some((s) => s.disabled),
  };
}

/**
 * The type-ahead: a combobox over GET /regions?q=, hits with their path.
 * `id` names the input; its list is `<id>-results` except for the intake
 * form's own (`region-search` → `region-results`). List filters' place
 * searches use it too: `onPick(code, hit)`.
 */
export function searchBox(onPick, { id = 'region-search', labelText = t('region.search') } = {}) {
  const listId = id === 'region-search' ? 'region-results' : `${id}-results`;
  const hitId = id === 'region-search' ? 'region-hit' : `${id}-hit`;
  const input = h('input', {
    type: 'search', id, autocomplete: 'off', role: 'combobox', 'aria-autocomplete': 'list',
    'aria-expanded': 'false', 'aria-controls': listId, placeholder: t('region.search_ph'),
  });
  const list = h('ul', { id: listId, role: 'listbox', class: 'region-results', hidden: true, 'aria-label': labelText });
  const status = h('p', { class: 'hint region-search-status', 'aria-live': 'polite' });
  let hits = [];
  let active = -1;
  let q = 0;

  function close() { list.hidden = true; input.setAttribute('aria-expanded', 'false'); input.removeAttribute('aria-activedescendant'); active = -1; }
  function mark(i) {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute('aria-selected', String(j === i)));
    if (list.children[i]) { input.setAttribute('aria-activedescendant', list.children[i].id); list.children[i].scrollIntoView({ block: 'nearest' }); }
  }
  function choose(i) {
    const hit = hits[i];
    if (!hit) return;
    const chain = regionChain(hit.code);
    (hit.path || []).forEach((name, j) => { if (chain[j]) regionNames.set(chain[j], name); });
    input.value = hit.name;
    close();
    status.textContent = '';
    onPick(hit.code, hit);
  }
  const run = debounce(async () => {
    const text = input.value.trim();
    const mine = ++q;
    if (!text) { close(); status.textContent = ''; return; }
    let items = [];
    try { items = (await get(`/regions?q=${encodeURIComponent(text)}`)).items || []; } catch (_) { items = []; }
    if (mine !== q) return;
    hits = items;
    replace(list, items.map((r, i) => h('li', {
      id: `${hitId}-${i}`, role: 'option', class: 'region-hit', dataset: { code: r.code }, 'aria-selected': 'false',
      onmousedown: (e) => { e.preventDefault(); choose(i); },
    }, h('strong', null, r.name), ' ', h('span', { class: 'region-path' }, (r.path || []).slice(0, -1).join(' › ')),
    ' ', h('span', { class: 'muted small' }, t(`region.level.${r.level - 1}`)))));
    list.hidden = items.length === 0;
    input.setAttribute('aria-expanded', String(items.length > 0));
    status.textContent = items.length ? t('region.search_n', { n: items.length }) : t('region.search_none');
    if (items.length) mark(0);
  }, 200);
  input.addEventListener('input', run);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && !list.hidden) { e.preventDefault(); mark(Math.min(hits.length - 1, active + 1)); }
    else if (e.key === 'ArrowUp' && !list.hidden) { e.preventDefault(); mark(Math.max(0, active - 1)); }
    else if (e.key === 'Enter' && !list.hidden && active >= 0) { e.preventDefault(); e.stopPropagation(); choose(active); }
    else if (e.key === 'Escape') close();
  });
  input.addEventListener('blur', () => setTimeout(close, 150));
  const el = h('div', { class: 'region-search field' },
    h('label', { for: input.id }, labelText), input, list, status);
  return { el, input };
}
