// Language state and lookup. Strings live only in ../i18n/<lang>.js.
import zhBase from '../i18n/zh-CN.js';
import zhConsole from '../i18n/console.zh-CN.js';
import zhHotline from '../i18n/hotline.zh-CN.js';

// The shift console's strings (issue 19) and the hotline loop's (issue 18)
// live in files of their own. Only Chinese loads with the page; English is
// fetched when first chosen (a weak line pays for one language).
const zh = { ...zhBase, ...zhConsole, ...zhHotline };
const DICTS = { 'zh-CN': zh, en: null };
// A page's own strings (`addStrings`): their English loaders, run with the base's.
const pageEn = [];
const LOADERS = {
  en: () => Promise.all([import('../i18n/en.js'), import('../i18n/console.en.js'), import('../i18n/hotline.en.js'),
    ...pageEn.map((f) => f())])
    .then((mods) => Object.assign({}, ...mods.map((m) => m.default))),
};
const KEY = 'lianxin.lang';
let lang = 'zh-CN';

async function load(next) {
  if (!DICTS[next]) DICTS[next] = await LOADERS[next]();
  return DICTS[next];
}

let saved = null;
try { saved = localStorage.getItem(KEY); } catch (_) { /* storage may be blocked */ }
/** Resolves once the saved language's strings are here (boot waits for it). */
export const ready = saved && saved in DICTS && saved !== lang
  ? load(saved).then(() => { lang = saved; }).catch(() => {})
  : Promise.resolve();

const listeners = new Set();

export function getLang() { return lang; }

export function setLang(next) {
  if (!(next in DICTS) || next === lang) return;
  load(next).then(() => {
    lang = next;
    try { localStorage.setItem(KEY, next); } catch (_) { /* ignore */ }
    document.documentElement.lang = next;
    for (const fn of listeners) fn(next);
  }).catch(() => {});
}

/**
 * A lazily loaded page's strings: its Chinese (imported with the page) is
 * merged now; its English is fetched now if English is chosen, else with
 * the rest of English when first chosen.
 */
export async function addStrings(zhPart, enLoader) {
  Object.assign(zh, zhPart);
  if (pageEn.includes(enLoader)) return;
  pageEn.push(enLoader);
  if (DICTS.en) {
    try { Object.assign(DICTS.en, (await enLoader()).default); } catch (_) { /* Chinese stands in */ }
  }
}

export function onLangChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }

/** Look up a string and fill `{name}` placeholders. Falls back to Chinese, then the key. */
export function t(key, params) {
  let s = (DICTS[lang] || zh)[key];
  if (s === undefined) s = zh[key];
  if (s === undefined) return params && params.fallback !== undefined ? String(params.fallback) : key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] !== undefined ? String(params[k]) : m));
  return s;
}

/** Label for an enumeration value (`category`, `status`, ...), the raw value if unknown. */
export function label(prefix, value) {
  if (value === null || value === undefined || value === '') return '—';
  return t(`${prefix}.${value}`, { fallback: value });
}

export function locale() { return lang === 'en' ? 'en-GB' : 'zh-CN'; }
