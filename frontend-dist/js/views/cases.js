// Finding a case (issue 19, item 11): search by number, name, phone or
// summary; filters for status, risk, category, place, dates, unit and
// overdue; pages of 25 loaded one after another with the same filters. The
// filters live in the address (`#/cases?…`), so coming back from a case
// shows the same search. Strings: i18n/finding.*.js, loaded with the page
// (`addStrings`).
import { h, replace, field, options, checkbox } from '../dom.js';
import { t, addStrings } from '../i18n.js';
import zhFind from '../../i18n/finding.zh-CN.js';
import { get, errorText, qs } from '../api.js';
import { CATEGORIES, UNIT_ROLES, debounce, loadUnits, section, regionNames, regionChain, resolveRegion } from '../util.js';
import { searchBox } from '../region-picker.js';
import { caseTable } from './caselist.js';

await addStrings(zhFind, () => import('../../i18n/finding.en.js'));

const PAGE = 25;
const KEYS = ['q', 'status', 'risk', 'category', 'region_code', 'from', 'to', 'unit_id', 'overdue'];
const MASKED = ['supervisor', 'admin']; // roles that see phone numbers masked

function fromHash() {
  const i = location.hash.indexOf('?');
  const p = new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1));
  return Object.fromEntries(KEYS.map((k) => [k, p.get(k) || '']));
}

/** Seven or more digits that are not a case number: the server reads a phone. */
const looksLikePhone = (q) => !/^\d{4}-\d*$/.test(q) && (q.match(/\d/g) || []).length >= 7;

function controls(ctx, saved) {
  const masked = MASKED.includes(ctx.me.role);
  const c = {
    q: h('input', { name: 'q', type: 'search', id: 'find-q', value: saved.q, autocomplete: 'off' }),
    status: options(h('select', { name: 'status', id: 'find-status' }), ['new', 'assigned', 'in_progress', 'resolved', 'closed'].map((s) => [s, t(`status.${s}`)]), { placeholder: t('find.any'), value: saved.status }),
    risk: options(h('select', { name: 'risk', id: 'find-risk' }), ['imminent', 'high', 'elevated', 'none'].map((r) => [r, t(`risk.${r}`)]), { placeholder: t('find.any'), value: saved.risk }),
    category: options(h('select', { name: 'category', id: 'find-category' }), CATEGORIES.map((x) => [x, t(`category.${x}`)]), { placeholder: t('find.any'), value: saved.category }),
    from: h('input', { name: 'from', type: 'date', id: 'find-from', value: saved.from }),
    to: h('input', { name: 'to', type: 'date', id: 'find-to', value: saved.to }),
    unit_id: h('select', { name: 'unit_id', id: 'find-unit' }),
    overdue: h('input', { type: 'checkbox', name: 'overdue', id: 'find-overdue', checked: saved.overdue === 'true' }),
    region_code: h('input', { type: 'hidden', name: 'region_code', value: saved.region_code }),
  };
  options(c.unit_id, [], { placeholder: t('find.any') });
  if (!UNIT_ROLES.includes(ctx.me.role) && ctx.me.role !== 'police_liaison') {
    loadUnits().then((units) => {
      options(c.unit_id, units.filter((u) => u.active !== false).map((u) => [u.id, u.name]), { placeholder: t('find.any'), value: saved.unit_id });
    }).catch(() => {});
  } else c.unit_id = null;
  c.hint = masked ? t('find.q_hint_masked') : t('find.q_hint');
  c.masked = masked;
  return c;
}

/** The place filter: the type-ahead, what is chosen, and a clear button. */
function placeFilter(hidden) {
  const chosen = h('p', { class: 'hint', id: 'find-place-chosen', 'aria-live': 'polite' });
  const paint = () => {
    const code = hidden.value;
    const name = regionChain(code).map((x) => regionNames.get(x)).filter(Boolean).join(' ');
    chosen.textContent = code ? t('find.place_chosen', { name: name || code }) : '';
    clearBtn.hidden = !code;
  };
  const box = searchBox((code) => { hidden.value = code; paint(); }, { id: 'find-place', labelText: t('find.place') });
  box.input.placeholder = t('find.place_ph');
  box.input.addEventListener('input', () => { if (!box.input.value.trim()) { hidden.value = ''; paint(); } });
  const clearBtn = h('button', { type: 'button', class: 'btn btn-small btn-ghost', id: 'find-place-clear', onclick: () => { hidden.value = ''; box.input.value = ''; paint(); } }, t('find.place_clear'));
  paint();
  if (hidden.value) resolveRegion(hidden.value).then(paint).catch(() => {});
  return { el: h('div', { class: 'find-place' }, box.el, chosen, clearBtn, hidden), paint };
}

export function renderCases(container, ctx) {
  const disposers = [];
  let alive = true;
  disposers.push(() => { alive = false; });
  const saved = fromHash();
  const c = controls(ctx, saved);
  const place = placeFilter(c.region_code);
  const count = h('p', { class: 'muted', id: 'find-count', 'aria-live': 'polite' });
  const listBox = h('div', { id: 'find-results' }, h('p', { class: 'muted' }, t('app.loading')));
  const more = h('button', { type: 'button', class: 'btn', id: 'find-more', hidden: true, 'aria-label': t('find.more_label') }, t('find.more'));
  const changed = h('p', { class: 'hint', id: 'find-changed', hidden: true }, t('find.changed'), ' ',
    h('button', { type: 'button', class: 'btn btn-small', onclick: () => refresh() }, t('find.reload')));
  const form = h('form', { class: 'filters', role: 'search', id: 'find-form' },
    field(t('find.q'), c.q, { hint: c.hint, cls: 'find-q' }),
    field(t('list.status'), c.status), field(t('find.risk'), c.risk), field(t('list.category'), c.category),
    place.el,
    field(t('find.from'), c.from), field(t('find.to'), c.to),
    c.unit_id ? field(t('find.unit'), c.unit_id) : null,
    checkbox(t('find.overdue'), c.overdue),
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn', id: 'find-run' }, t('find.run')),
      h('button', { type: 'button', class: 'btn btn-ghost', id: 'find-reset', onclick: reset }, t('find.reset'))));

  let items = [];
  let params = {};
  let cursor = null;
  let seq = 0;

  function current() {
    const p = {};
    for (const k of KEYS) {
      if (k === 'overdue') p.overdue = c.overdue.checked ? 'true' : '';
      else if (k === 'unit_id') p.unit_id = c.unit_id ? c.unit_id.value : '';
      else p[k] = String(c[k].value || '').trim();
    }
    return p;
  }

  let painted = 0; // `data-loaded` counts answers shown (tests wait on it)
  const done = () => { painted += 1; listBox.dataset.loaded = String(painted); };

  function paint(focusFrom) {
    replace(listBox, caseTable(items));
    done();
    count.textContent = t(cursor ? 'find.shown_more' : 'find.shown', { n: items.length });
    more.hidden = !cursor;
    if (focusFrom !== undefined) {
      const link = listBox.querySelectorAll('a.case-link')[focusFrom];
      if (link) link.focus();
    }
  }

  function failed(err) {
    const text = err && err.code === 'forbidden' && looksLikePhone(params.q || '') ? t('find.phone_forbidden') : errorText(err);
    replace(listBox, h('p', { class: 'error', role: 'alert', id: 'find-error' }, text));
    done();
    count.textContent = '';
    more.hidden = true;
  }

  async function refresh() {
    params = current();
    changed.hidden = true;
    history.replaceState(null, '', `#/cases${qs(params)}`);
    const mine = ++seq;
    try {
      const r = await get(`/cases${qs({ ...params, limit: PAGE })}`);
      if (mine !== seq || !alive) return;
      items = (r && r.items) || [];
      cursor = r && r.next_cursor;
      paint();
    } catch (err) { if (mine === seq) failed(err); }
  }

  async function loadMore() {
    if (!cursor) return;
    const mine = ++seq;
    more.disabled = true;
    try {
      const r = await get(`/cases${qs({ ...params, limit: PAGE, cursor })}`);
      if (mine !== seq || !alive) return;
      const from = items.length;
      items = items.concat((r && r.items) || []);
      cursor = r && r.next_cursor;
      paint(from);
    } catch (err) { if (mine === seq) failed(err); } finally { more.disabled = false; }
  }

  function reset() {
    for (const k of ['q', 'status', 'risk', 'category', 'from', 'to', 'region_code']) c[k].value = '';
    if (c.unit_id) c.unit_id.value = '';
    c.overdue.checked = false;
    form.querySelector('#find-place').value = '';
    place.paint();
    refresh();
  }

  form.addEventListener('submit', (ev) => { ev.preventDefault(); refresh(); });
  more.addEventListener('click', loadMore);
  // A change elsewhere reloads the first page; once more pages are shown,
  // it only says so (a reload would drop what the user paged to).
  const soon = debounce(() => {
    if (!alive) return;
    if (items.length > PAGE) changed.hidden = false;
    else refresh();
  }, 300);
  disposers.push(ctx.live.onEvent(() => soon()));
  container.append(h('h1', null, t('find.title')),
    section(t('nav.cases'), form, count, changed, listBox, h('div', { class: 'form-actions' }, more)));
  refresh();
  return () => disposers.forEach((d) => d());
}
