// 台账统计 (`#/ledger/report`): GET /reports/ledger for supervisors and the
// ledger's keepers, within their region: persons by area one level down ×
// flag, left behind today, reviews due, and visits in a period. The place
// search narrows it; an area's name opens the level below it.
import { h, field, replace } from '../dom.js';
import { t } from '../i18n.js';
import { get, errorText, qs } from '../api.js';
import { regionText, regionKids, section } from '../util.js';
import { searchBox } from '../region-picker.js';
import { FLAGS } from './ledger-box.js';

const COLS = ['persons', 'left_behind', ...FLAGS.map((f) => `flag.${f}`), 'reviews_due'];

function cell(a, col) {
  return col.startsWith('flag.') ? a.flags[col.slice(5)] : a[col];
}

function row(a, head, onOpen) {
  const name = head ? h('strong', null, t('lg.rp.total'))
    : h('button', { type: 'button', class: 'link-button lg-rp-area', dataset: { code: a.region_code }, onclick: () => onOpen(a.region_code) },
      regionText(a.region_code));
  return h('tr', { class: head ? 'lg-rp-total' : null, dataset: { code: a.region_code } },
    h('th', { scope: 'row', 'data-label': t('lg.rp.area') }, name),
    COLS.map((c) => h('td', { 'data-label': t(`lg.rp.${c}`, { fallback: t(`lg.${c}`) }), dataset: { col: c } }, String(cell(a, c) ?? 0))));
}

function dayInput(name, date) {
  // The Beijing day.
  return h('input', { type: 'date', name, value: new Date(date.getTime() + 8 * 3600e3).toISOString().slice(0, 10) });
}

export function renderReport(container, ctx) {
  let place = ctx.me.unit_region_code || '';
  const placeNote = h('p', { class: 'hint', id: 'lg-rp-place', 'aria-live': 'polite' });
  const search = searchBox((code) => { place = code; load(); }, { id: 'lg-rp-search', labelText: t('lg.rp.place') });
  search.input.name = 'place';
  const now = new Date();
  const from = dayInput('from', new Date(now.getTime() - 30 * 86400e3));
  const to = dayInput('to', now);
  const form = h('form', { class: 'filters', id: 'lg-rp-filters', novalidate: true, 'aria-label': t('lg.rp.filters') },
    h('div', { class: 'field' }, search.el, placeNote),
    field(t('lg.rp.from'), from, { name: 'from' }),
    field(t('lg.rp.to'), to, { name: 'to' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('lg.search'))));
  const out = h('div', { id: 'lg-rp-out', 'aria-live': 'polite' });
  let seq = 0;

  async function load() {
    const mine = ++seq;
    if (!place) {
      // Administrators have no region of their own: start at the province.
      try { place = ((await regionKids(null))[0] || {}).code || ''; } catch (_) { place = ''; }
    }
    replace(placeNote, place ? regionText(place) : t('lg.place_any'));
    // From the first day's start to the last day's end, Beijing time.
    const day = (el, end) => (el.value ? new Date(new Date(`${el.value}T00:00:00+08:00`).getTime() + (end ? 86400e3 : 0)).toISOString() : '');
    try {
      const r = await get(`/reports/ledger${qs({ region_code: place, from: day(from), to: day(to, true) })}`);
      if (mine !== seq) return;
      replace(out,
        h('p', { class: 'lg-rp-visits', id: 'lg-rp-visits' }, t('lg.rp.visits', { n: r.visits })),
        h('div', { class: 'table-wrap' }, h('table', { class: 'lg-table lg-rp-table', id: 'lg-rp-table' },
          h('caption', { class: 'muted small' }, t('lg.rp.caption')),
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('lg.rp.area')),
            COLS.map((c) => h('th', { scope: 'col', dataset: { col: c } }, t(`lg.rp.${c}`, { fallback: t(`lg.${c}`) }))))),
          h('tbody', null, r.areas.length ? r.areas.map((a) => row(a, false, (code) => { place = code; load(); }))
            : h('tr', null, h('td', { colspan: COLS.length + 1, class: 'muted' }, t('lg.empty')))),
          h('tfoot', null, row(r, true)))));
    } catch (err) {
      if (mine === seq) replace(out, h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
    }
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  container.append(
    h('a', { href: '#/ledger', class: 'back-link' }, t('lg.back')),
    h('div', { class: 'page-head' }, h('h1', null, t('lg.rp.title'))),
    section(t('lg.rp.filters'), form),
    section(t('lg.rp.table'), out));
  load();
  return () => { seq += 1; };
}
