// Language state and lookup. Strings live only in ../i18n/<lang>.js.
import zhBase from '../i18n/zh-CN.js';
import enBase from '../i18n/en.js';
import zhConsole from '../i18n/console.zh-CN.js';
import enConsole from '../i18n/console.en.js';
import zhHotline from '../i18n/hotline.zh-CN.js';
import enHotline from '../i18n/hotline.en.js';

// The shift console's strings (issue 19) live in files of their own.
// The hotline loop's (issue 18) too.
const zh = { ...zhBase, ...zhConsole, ...zhHotline };
const en = { ...enBase, ...enConsole, ...enHotline };
const DICTS = { 'zh-CN': zh, en };
const KEY = 'lianxin.lang';
let lang = 'zh-CN';
try {
  const saved = localStorage.getItem(KEY);
  if (saved && DICTS[saved]) lang = saved;
} catch (_) { /* storage may be blocked */ }

const listeners = new Set();

export function getLang() { return lang; }

export function setLang(next) {
  if (!DICTS[next] || next === lang) return;
  lang = next;
  try { localStorage.setItem(KEY, next); } catch (_) { /* ignore */ }
  document.documentElement.lang = next;
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }

/** Look up a string and fill `{name}` placeholders. Falls back to Chinese, then the key. */
export function t(key, params) {
  let s = DICTS[lang][key];
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
