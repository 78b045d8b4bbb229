// What the ledger says about a caller (issue 17), in the intake's screen
// pop and in each waiting call: left-behind or not, her flags, village,
// last visit, contact person, and her safe contact first and loudest.
// "Not on the ledger" is said only when the server looked and found none.
import { h, replace } from '../dom.js';
import { t, addStrings } from '../i18n.js';
import { errorText } from '../api.js';
import { fmtTime, regionText, toast } from '../util.js';
import zh from '../../i18n/ledger.zh-CN.js';

const en = () => import('../../i18n/ledger.en.js');

/** The ledger's stylesheet, with its pages (the first visit goes without). */
function loadStyle() {
  if (document.querySelector('link[data-ledger-css]')) return Promise.resolve();
  return new Promise((done) => {
    const link = h('link', { rel: 'stylesheet', href: '/css/ledger.css', 'data-ledger-css': '' });
    link.addEventListener('load', done);
    link.addEventListener('error', done); // unstyled beats absent
    document.head.append(link);
  });
}
await Promise.all([addStrings(zh, en), loadStyle()]);

export const FLAGS = ['low_income', 'registered_poor', 'disabled', 'seriously_ill', 'rights_violated', 'care_burden'];

/** The flags set, as labels. */
export function flagNames(flags) {
  return FLAGS.filter((f) => flags && flags[f]).map((f) => t(`lg.flag.${f}`));
}

export function flagBadges(flags) {
  const on = FLAGS.filter((f) => flags && flags[f]);
  if (!on.length) return [h('span', { class: 'muted small' }, t('lg.no_flags'))];
  return on.map((f) => h('span', { class: ['badge', 'lg-flag', f === 'rights_violated' ? 'lg-flag-bad' : null], dataset: { flag: f } },
    t(`lg.flag.${f}`)));
}

/** Her safe contact as warning lines ([class, text]); none when nothing is recorded. */
export function safeLines(sc) {
  if (!sc) return [];
  const lines = [];
  if (!sc.safe_to_call) lines.push(['lg-danger lg-no-call', t('lg.safe.no_call')]);
  if (sc.safe_hours) lines.push(['lg-warn', t('lg.safe.hours', { hours: sc.safe_hours })]);
  if (sc.no_sms) lines.push(['lg-warn lg-no-sms', t('lg.safe.no_sms')]);
  if (sc.code_word) lines.push(['lg-warn', t('lg.safe.code_word', { word: sc.code_word })]);
  if (sc.notes) lines.push(['', t('lg.safe.notes', { notes: sc.notes })]);
  if (!lines.length) lines.push(['lg-ok', t('lg.safe.ok')]);
  return lines;
}

export function safeBlock(sc) {
  const lines = safeLines(sc);
  if (!lines.length) return null;
  const risky = !sc.safe_to_call || sc.no_sms || sc.safe_hours || sc.code_word;
  return h('div', { class: ['lg-safe', risky ? 'lg-safe-risky' : null], role: 'note' },
    h('strong', null, t('lg.safe_title')),
    h('ul', null, lines.map(([cls, text]) => h('li', { class: cls || null }, text))));
}

/**
 * The box for a screen pop `r` (`GET /callers/{phone}` or the ringing
 * frame's `history`): the ledger summary; "not on the ledger" only when
 * the number was looked up (`phone` set) and `ledger` is null; else nothing.
 */
export function ledgerBox(r, { compact = false } = {}) {
  if (!r || !('ledger' in r)) return null;
  const l = r.ledger;
  if (!l) return r.phone ? h('p', { class: 'muted lg-none' }, t('lg.none')) : null;
  return h('div', { class: ['ledger-box', compact ? 'ledger-box-compact' : null], dataset: { person: l.person_id } },
    h(compact ? 'strong' : 'h4', { class: 'lg-box-title' }, t('lg.box_title')),
    h('p', { class: 'lg-status' },
      h('span', { class: ['badge', l.left_behind ? 'lg-left-behind' : 'lg-listed'] }, t(l.left_behind ? 'lg.left_behind' : 'lg.not_left_behind')),
      ' ', flagBadges(l.flags)),
    safeBlock(l.safe_contact),
    compact ? null : h('dl', { class: 'kv' },
      h('dt', null, t('lg.village')), h('dd', { class: 'lg-village' }, regionText(l.village_code)),
      h('dt', null, t('lg.last_visit')), h('dd', null, l.last_visit_at ? fmtTime(l.last_visit_at) : t('lg.never_visited')),
      l.contact_person ? [h('dt', null, t('lg.contact_person')), h('dd', null, l.contact_person.display_name)] : null),
    l.others ? h('p', { class: 'muted small' }, t('lg.others', { n: l.others })) : null);
}

/**
 * A filed case and the ledger: the person intake linked it to (by ID
 * number), else the persons whose phone is the subject's, each with a
 * button that links the case to her (`link(personId)`).
 */
export function caseLedger(created, link) {
  const linked = () => h('p', { class: 'lg-linked' }, t('lg.case_linked'));
  if (created.ledger_person_id) return linked();
  const matches = created.ledger_matches || [];
  if (!matches.length) return null;
  const box = h('div', { class: 'lg-matches' }, h('p', null, h('strong', null, t('lg.matches', { n: matches.length }))));
  for (const m of matches) {
    const btn = h('button', { type: 'button', class: 'btn btn-small lg-link' }, t('lg.link_this'));
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        await link(m.person_id);
        created.ledger_person_id = m.person_id; // kept with the call's draft
        replace(box, linked());
      } catch (err) {
        btn.disabled = false;
        toast(errorText(err), 'error');
      }
    });
    box.append(h('div', { class: 'lg-match' }, ledgerBox({ phone: '-', ledger: m }), btn));
  }
  return box;
}
