// Formatting, small caches and shared widgets used by several views.
import { h, replace } from './dom.js';
import { t, label, locale } from './i18n.js';
import { get, errorText } from './api.js';

export const CATEGORIES = ['domestic_violence', 'safety_threat', 'marriage_family', 'neighbor_dispute',
  'land_rights', 'property', 'legal_aid', 'social_assistance', 'counselling', 'health', 'employment',
  'family_education', 'other'];
export const MEDIATION = ['marriage_family', 'neighbor_dispute', 'land_rights', 'property'];
export const ACTION_KINDS = ['dispatched', 'victim_contacted', 'warning_issued', 'protection_order_assisted',
  'detained', 'referred', 'other'];
export const UNIT_ROLES = ['station_worker', 'mediator', 'department'];

/** May this user read the ledger of left-behind women (the server's rule, for the menu)? */
export function readsLedger(me) {
  if (!me || me.role === 'operator' || me.role === 'police_liaison') return false;
  if (me.role === 'admin' || me.role === 'supervisor') return true;
  const keeps = ['rights_station', 'civil_affairs', 'womens_home', 'village_committee', 'township_government'];
  return keeps.includes(me.unit_kind) && regionChain(me.unit_region_code || '').length >= 3;
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale(), {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(d);
}

export function fmtDuration(ms) {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (d > 0) return t('cd.days', { d, h: hh });
  const p = (n) => String(n).padStart(2, '0');
  return hh > 0 ? `${hh}:${p(mm)}:${p(ss)}` : `${p(mm)}:${p(ss)}`;
}

/** "5 分 12 秒" — for figures, where a clock-like 05:12 would be ambiguous. */
export function fmtSeconds(total) {
  const s = Math.max(0, Math.round(total));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (hh > 0) return t('dur.hm', { h: hh, m: mm });
  if (mm > 0) return t('dur.ms', { m: mm, s: ss });
  return t('dur.s', { s: ss });
}

/** Badge with text (never colour alone). */
export function badge(kind, value, text) {
  return h('span', { class: `badge badge-${kind}-${value}` }, text || label(kind === 'esc' ? 'esc.status' : kind, value));
}
export const riskBadge = (v) => h('span', { class: `badge risk-${v || 'none'}` }, label('risk', v || 'none'));
export const statusBadge = (v) => h('span', { class: `badge status-${v}` }, label('status', v));
export const priorityBadge = (v) => h('span', { class: `badge prio-${v}` }, `${t('list.priority')}：${label('priority', v)}`);
export const escStatusBadge = (v) => h('span', { class: `badge esc-${v}` }, label('esc.status', v));
export const urgencyBadge = (v) => h('span', { class: `badge risk-${v}` }, label('esc.urgency', v));

// ---- units: fetched once per session, for names and transfer targets ----
let unitsPromise = null;
const unitMap = new Map();
export function loadUnits() {
  if (!unitsPromise) {
    unitsPromise = get('/units?limit=200').then((r) => {
      const items = (r && r.items) || [];
      for (const u of items) unitMap.set(u.id, u);
      return items;
    }).catch((e) => { unitsPromise = null; throw e; });
  }
  return unitsPromise;
}
export function unitName(id) {
  if (!id) return '—';
  const u = unitMap.get(id);
  return u ? u.name : id.slice(0, 8);
}
export function resetCaches() { unitsPromise = null; unitMap.clear(); regionNames.clear(); }

// ---- regions: names learnt from picker look-ups ----
export const regionNames = new Map();
const regionChildren = new Map();
export async function regionKids(parent) {
  const key = parent || '';
  if (!regionChildren.has(key)) {
    const p = get(`/regions${parent ? `?parent=${encodeURIComponent(parent)}` : ''}`).then((r) => {
      const items = (r && r.items) || [];
      for (const it of items) regionNames.set(it.code, it.name);
      return items;
    }).catch((e) => { regionChildren.delete(key); throw e; });
    regionChildren.set(key, p);
  }
  return regionChildren.get(key);
}

/** The codes of a region and its ancestors, province first. */
export function regionChain(code) {
  if (!code || code.length !== 12) return [];
  const cuts = [2, 4, 6, 9, 12];
  const out = [];
  for (const n of cuts) {
    const c = code.slice(0, n).padEnd(12, '0');
    if (c !== out[out.length - 1]) out.push(c);
    if (n < 12 && /^0+$/.test(code.slice(n))) break;
  }
  return out;
}

/** Fetch the names of a code's ancestors (cached), for display. */
export async function resolveRegion(code) {
  const chain = regionChain(code);
  let parent = null;
  for (const c of chain) {
    try { await regionKids(parent); } catch (_) { break; }
    parent = c;
  }
  return regionLabel(code);
}
export function regionLabel(code) {
  if (!code) return '—';
  const names = regionChain(code).map((c) => regionNames.get(c)).filter(Boolean);
  return names.length ? names.slice(-3).join(' ') : code;
}

/** An element showing a region name (filled in once known). */
export function regionText(code) {
  const el = h('span', { class: 'region', title: code || '' }, regionLabel(code));
  if (code && !regionNames.has(code)) {
    resolveRegion(code).then((txt) => { el.textContent = txt; }).catch(() => {});
  }
  return el;
}

// ---- countdowns: one ticker updates every [data-due] element ----
// `urgent`: an imminent clock is red ("紧迫") from the start, never "warning".
export function countdown(dueIso, { startIso, doneAt, doneText, urgent } = {}) {
  const el = h('span', { class: 'countdown', role: 'timer', 'aria-live': 'off' });
  if (doneAt) {
    el.classList.add('cd-done');
    el.textContent = `${doneText || t('cd.done')} · ${fmtTime(doneAt)}`;
    return el;
  }
  if (!dueIso) { el.textContent = '—'; return el; }
  el.dataset.due = dueIso;
  if (startIso) el.dataset.start = startIso;
  if (urgent) el.dataset.urgent = 'true';
  tickOne(el, Date.now());
  return el;
}

function tickOne(el, now) {
  const due = Date.parse(el.dataset.due);
  if (Number.isNaN(due)) return;
  const left = due - now;
  const start = el.dataset.start ? Date.parse(el.dataset.start) : NaN;
  const span = Number.isNaN(start) ? NaN : due - start;
  let state = 'ok';
  if (left <= 0) state = 'overdue';
  else if (el.dataset.urgent) state = 'urgent';
  else if (left < 5 * 60 * 1000 || (!Number.isNaN(span) && span > 0 && left < span * 0.25)) state = 'warn';
  // "已超时 3:05" says the state already: no "· 已超时" after it.
  el.textContent = left <= 0 ? t('cd.over', { t: fmtDuration(left) })
    : `${t('cd.remaining', { t: fmtDuration(left) })} · ${t(`cd.${state}`)}`;
  for (const s of ['ok', 'warn', 'urgent', 'overdue']) el.classList.toggle(`cd-${s}`, state === s);
  el.dataset.state = state;
}

setInterval(() => {
  const now = Date.now();
  document.querySelectorAll('.countdown[data-due]').forEach((el) => tickOne(el, now));
}, 1000);

// ---- toasts and audible cue ----
export function toast(message, kind = 'info') {
  const region = document.getElementById('toasts');
  if (!region) return;
  for (const old of [...region.children]) if (old.textContent === message) old.remove();
  const el = h('div', { class: `toast toast-${kind}` }, message);
  region.append(el);
  while (region.children.length > 3) region.firstElementChild.remove();
  setTimeout(() => el.remove(), 8000);
}

let audioCtx = null;
function ensureAudio() {
  try {
    if (!audioCtx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      audioCtx = new Ctx();
    }
    if (audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
    return audioCtx;
  } catch (_) { return null; }
}
// Browsers only start audio after a user gesture: unlock on the first one.
['pointerdown', 'keydown'].forEach((ev) => window.addEventListener(ev, ensureAudio, { once: true, capture: true }));

export function beep(times = 2) {
  const ctx = ensureAudio();
  if (!ctx) return;
  try {
    for (let i = 0; i < times; i += 1) {
      const at = ctx.currentTime + i * 0.3;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.22);
    }
  } catch (_) { /* no sound is not an error */ }
  document.body.dataset.lastCue = String(Date.now());
}

// ---- form errors: the server's message next to the field it names ----
export function clearErrors(form) {
  form.querySelectorAll('.field-error').forEach((p) => { p.textContent = ''; p.hidden = true; });
  form.querySelectorAll('[aria-invalid]').forEach((c) => c.removeAttribute('aria-invalid'));
  const fe = form.querySelector('.form-error');
  if (fe) { fe.textContent = ''; fe.hidden = true; }
}

export function showError(form, err, text) {
  const message = text || errorText(err);
  if (err && err.field) {
    const f = String(err.field);
    const candidates = [f, f.split('.').slice(0, -1).join('.'), f.split('[')[0], f.split('.')[0]].filter(Boolean);
    for (const c of candidates) {
      const wrap = form.querySelector(`[data-field="${CSS.escape(c)}"]`);
      if (!wrap) continue;
      const slot = wrap.querySelector('.field-error');
      const control = wrap.querySelector('input, select, textarea');
      if (slot) { slot.textContent = message; slot.hidden = false; }
      if (control) { control.setAttribute('aria-invalid', 'true'); control.focus(); }
      // Corrected: the message goes as soon as the field changes.
      const fixed = () => {
        if (slot) { slot.textContent = ''; slot.hidden = true; }
        wrap.querySelectorAll('[aria-invalid]').forEach((c) => c.removeAttribute('aria-invalid'));
        wrap.removeEventListener('input', fixed);
        wrap.removeEventListener('change', fixed);
      };
      wrap.addEventListener('input', fixed);
      wrap.addEventListener('change', fixed);
      return;
    }
  }
  const fe = form.querySelector('.form-error');
  if (fe) { fe.textContent = message; fe.hidden = false; }
}

export const formError = () => h('p', { class: 'form-error', role: 'alert', hidden: true });

/**
 * Replace `box`'s content, carrying over what the user typed in its forms
 * (by card, form action and control name) and the focus: a live reload never
 * wipes a half-written reply.
 */
export function repaintKeeping(box, ...children) {
  const keyOf = (el) => {
    const card = el.closest('[data-referral-id], [data-id]');
    const form = el.closest('form');
    const cardKey = card ? (card.dataset.referralId || card.dataset.id) : '';
    return `${cardKey}|${form ? (form.dataset.action || form.id || '') : ''}|${el.name}|${el.type === 'radio' ? el.value : ''}`;
  };
  const controls = (root) => root.querySelectorAll('input[name]:not([type=hidden]), select[name], textarea[name]');
  const typed = new Map();
  controls(box).forEach((el) => {
    if (el.type === 'checkbox' || el.type === 'radio') { if (el.checked) typed.set(keyOf(el), true); } else if (el.value) typed.set(keyOf(el), el.value);
  });
  const focused = box.contains(document.activeElement) && document.activeElement.name ? keyOf(document.activeElement) : null;
  replace(box, ...children);
  controls(box).forEach((el) => {
    const k = keyOf(el);
    if (!typed.has(k)) return;
    if (el.type === 'checkbox' || el.type === 'radio') el.checked = true;
    else if (!el.value) el.value = typed.get(k);
    if (k === focused) el.focus({ preventScroll: true });
  });
}

// ---- drafts: what is typed survives re-renders, reconnects and reloads ----
export function keepDraft(form, key) {
  const storeKey = `lianxin.draft.${key}`;
  const save = () => {
    const data = {};
    form.querySelectorAll('input[name], select[name], textarea[name]').forEach((el) => {
      if (el.type === 'checkbox') data[el.name] = el.checked;
      else if (el.type !== 'password') data[el.name] = el.value;
    });
    try { sessionStorage.setItem(storeKey, JSON.stringify(data)); } catch (_) { /* full */ }
  };
  const restore = () => {
    let data = null;
    try { data = JSON.parse(sessionStorage.getItem(storeKey) || 'null'); } catch (_) { data = null; }
    if (!data) return null;
    form.querySelectorAll('input[name], select[name], textarea[name]').forEach((el) => {
      if (!(el.name in data)) return;
      if (el.type === 'checkbox') el.checked = !!data[el.name];
      else if (el.tagName !== 'SELECT' || [...el.options].some((o) => o.value === data[el.name])) el.value = data[el.name];
    });
    return data;
  };
  const drop = () => { try { sessionStorage.removeItem(storeKey); } catch (_) { /* ignore */ } };
  form.addEventListener('input', save);
  form.addEventListener('change', save);
  return { save, restore, drop };
}

/** Keep only the first call of a burst (e.g. many live events → one reload). */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

export function section(titleText, ...children) {
  const id = `sec-${Math.random().toString(36).slice(2, 8)}`;
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, titleText), ...children);
}
