// The ledger of left-behind women (issue 17), for the units that keep it
// (township station, civil affairs, women's home, township government,
// village committee) and supervisors: the list with its filters, paged by
// cursor; the import of a screening file with its row report; `#/ledger/<id>`
// is one person (ledger-person.js).
import { h, field, checkbox, options, replace } from '../dom.js';
import { t } from '../i18n.js';
import { get, upload, errorText, qs } from '../api.js';
import { fmtTime, regionText, section, toast } from '../util.js';
import { searchBox } from '../region-picker.js';
import { FLAGS, flagBadges } from './ledger-box.js';
import { renderPerson, fmtDate, writesLedger } from './ledger-person.js';
import { renderReport } from './ledger-report.js';

function personRow(p) {
  return h('tr', { class: p.review_due ? 'is-due' : null, dataset: { id: p.id } },
    h('td', { 'data-label': t('lg.col.name') }, h('a', { href: `#/ledger/${p.id}`, class: 'case-link lg-name' }, p.name)),
    h('td', { 'data-label': t('lg.col.village') }, regionText(p.village_code)),
    h('td', { 'data-label': t('lg.col.status') },
      p.left_behind ? [h('span', { class: 'badge lg-left-behind' }, t('lg.left_behind')), ' '] : null,
      flagBadges(p.flags)),
    h('td', { 'data-label': t('lg.col.review') }, fmtDate(p.review_due_at),
      p.review_due ? [' ', h('span', { class: 'badge prio-high lg-due' }, t('lg.review_due_badge'))] : null),
    h('td', { 'data-label': t('lg.col.last_visit') }, p.last_visit_at ? fmtTime(p.last_visit_at) : t('lg.never_visited')));
}

function listPanel() {
  let place = '';
  const placeNote = h('p', { class: 'hint', id: 'lg-place-chosen', 'aria-live': 'polite' }, t('lg.place_any'));
  const clearPlace = h('button', { type: 'button', class: 'btn btn-small', hidden: true }, t('lg.place_clear'));
  const search = searchBox((code, hit) => {
    place = code;
    placeNote.textContent = `${(hit && hit.path ? hit.path.join(' ') : code)}`;
    clearPlace.hidden = false;
    load();
  });
  search.input.name = 'place';
  clearPlace.addEventListener('click', () => {
    place = ''; search.input.value = ''; placeNote.textContent = t('lg.place_any'); clearPlace.hidden = true; load();
  });
  const flag = options(h('select', { name: 'flag', id: 'lg-flag' }), FLAGS.map((f) => [f, t(`lg.flag.${f}`)]), { placeholder: t('lg.flag_any') });
  const due = h('input', { type: 'checkbox', name: 'review_due', id: 'lg-due' });
  const q = h('input', { type: 'search', name: 'q', id: 'lg-q', maxlength: 64, autocomplete: 'off' });
  const form = h('form', { class: 'filters', id: 'lg-filters', novalidate: true, role: 'search', 'aria-label': t('lg.filters') },
    h('div', { class: 'field' }, search.el, placeNote, clearPlace),
    field(t('lg.flag'), flag, { name: 'flag' }),
    field(t('lg.q'), q, { name: 'q' }),
    checkbox(t('lg.review_due'), due, { name: 'review_due' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('lg.search'))));
  const body = h('tbody');
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'lg-table', id: 'lg-list' },
    h('thead', null, h('tr', null, ['name', 'village', 'status', 'review', 'last_visit'].map((c) => h('th', { scope: 'col' }, t(`lg.col.${c}`))))),
    body));
  const status = h('p', { class: 'muted', 'aria-live': 'polite', id: 'lg-count' });
  const more = h('button', { type: 'button', class: 'btn', id: 'lg-more', hidden: true }, t('lg.more'));
  let cursor = null;
  let shown = 0;
  let seq = 0;

  async function load(append = false) {
    const mine = ++seq;
    const params = {
      region_code: place, flag: flag.value, q: q.value.trim(), review_due: due.checked ? 'true' : '', limit: 50,
      cursor: append ? cursor : '',
    };
    more.disabled = true;
    try {
      const r = await get(`/ledger/persons${qs(params)}`);
      if (mine !== seq) return;
      const items = (r && r.items) || [];
      if (!append) { replace(body); shown = 0; }
      items.forEach((p) => body.append(personRow(p)));
      shown += items.length;
      cursor = r.next_cursor || null;
      more.hidden = !cursor;
      status.textContent = shown ? t('lg.count', { n: shown }) : t('lg.empty');
    } catch (err) {
      if (mine === seq) status.textContent = errorText(err);
    } finally {
      more.disabled = false;
    }
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  flag.addEventListener('change', () => load());
  due.addEventListener('change', () => load());
  more.addEventListener('click', () => load(true));
  load();
  return { el: section(t('lg.filters'), form, status, table, h('div', { class: 'form-actions' }, more)), reload: () => load() };
}

/** The row report of an import, as a table of the rejected rows. */
export function reportView(r) {
  const reason = (x) => t(`lg.reason.${x.reason}`, { fallback: x.message || x.reason });
  const fieldName = (f) => t(`lg.field.${f}`, { fallback: t(`lg.flag.${f}`, { fallback: f }) });
  return h('div', { class: 'lg-report-box', id: 'lg-report', role: 'status' },
    h('h3', null, t('lg.report'), ' ', h('span', { class: 'muted small' }, t('lg.report_rows', { n: r.rows }))),
    r.repeated ? h('p', { class: 'route-ok lg-repeated' }, t('lg.report_repeated')) : null,
    h('div', { class: 'lg-report stats' }, ['created', 'updated', 'unchanged', 'rejected'].map((k) =>
      h('div', { class: 'stat', dataset: { count: k } }, h('span', { class: 'stat-label' }, t(`lg.r.${k}`)),
        h('span', { class: 'stat-value' }, String(r[k] || 0))))),
    (r.rejections || []).length ? [
      h('h4', null, t('lg.rej_title')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'lg-table', id: 'lg-rejections' },
        h('thead', null, h('tr', null, ['row', 'field', 'reason'].map((c) => h('th', { scope: 'col' }, t(`lg.rej.${c}`))))),
        h('tbody', null, r.rejections.map((x) => h('tr', null,
          h('td', { 'data-label': t('lg.rej.row') }, String(x.row)),
          h('td', { 'data-label': t('lg.rej.field') }, fieldName(x.field)),
          h('td', { 'data-label': t('lg.rej.reason'), dataset: { reason: x.reason } }, reason(x)))))))] : null);
}

function importPanel(onDone) {
  const file = h('input', { type: 'file', name: 'file', id: 'lg-file', accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
  const btn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'lg-import-go' }, t('lg.import_go'));
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { id: 'lg-import', novalidate: true },
    field(t('lg.import_file'), file, { name: 'file', hint: t('lg.import_hint') }),
    h('div', { class: 'form-actions' }, btn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = file.files && file.files[0];
    if (!f) { replace(out, h('p', { class: 'form-error' }, t('lg.import_pick'))); return; }
    btn.disabled = true;
    btn.textContent = t('lg.importing');
    try {
      const r = await upload('/ledger/imports', f);
      replace(out, reportView(r));
      onDone();
    } catch (err) {
      replace(out, h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
      toast(errorText(err), 'error');
    } finally {
      btn.disabled = false;
      btn.textContent = t('lg.import_go');
    }
  });
  return section(t('lg.import'), form, out);
}

export function renderLedger(container, ctx, arg) {
  if (arg === 'report') return renderReport(container, ctx);
  if (arg) return renderPerson(container, ctx, arg);
  const list = listPanel();
  container.append(
    h('div', { class: 'page-head' }, h('h1', null, t('lg.title')),
      h('a', { href: '#/ledger/report', class: 'btn', id: 'lg-report-link' }, t('lg.rp.title'))),
    writesLedger(ctx.me) ? importPanel(() => list.reload()) : null,
    list.el);
  return null;
}
