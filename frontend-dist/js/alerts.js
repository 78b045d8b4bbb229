// Unacknowledged safety alerts are hard to miss: while any waits for the
// police to acknowledge, the sound repeats every 30 s, the tab title carries
// the count, and each new one raises a desktop notification (asked for at
// sign-in). Runs on every page of a police liaison, not only the board.
import { t } from './i18n.js';
import { get, qs } from './api.js';
import { beep, debounce } from './util.js';

const REPEAT_MS = 30000;
let pending = 0;
let seen = null;
let timer = null;
let stopFeed = [];

/** The tab title, with the count of alerts waiting in front. */
export function applyTitle() {
  document.title = pending > 0 ? `(${pending}) ${t('alerts.title_badge')} · ${t('app.title')}` : t('app.title');
  document.documentElement.dataset.pendingAlerts = String(pending);
}

/** Ask once, at sign-in, whether we may show desktop notifications. */
export function askNotifications() {
  try {
    if ('Notification' in window && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
  } catch (_) { /* not supported */ }
}

function notify(e) {
  try {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    const n = new Notification(t('alerts.notify_title', { urgency: t(`esc.urgency.${e.urgency}`) }), {
      body: t('alerts.notify_body', { number: e.case_number || '' }), tag: `esc-${e.id}`, requireInteraction: e.urgency === 'imminent',
    });
    n.onclick = () => { window.focus(); location.hash = `#/case/${e.case_id}`; };
  } catch (_) { /* a notification is extra, never required */ }
}

let poll = null;
let refreshSoon = null;

/** Re-count now (after this page acknowledged one: its feed may not hear it). */
export function refreshAlerts() { if (refreshSoon) refreshSoon(); }

async function refresh() {
  let items;
  try {
    const r = await get(`/escalations${qs({ status: 'pending', limit: 200 })}`);
    items = ((r && r.items) || []).filter((e) => e.status === 'pending');
  } catch (_) { return; }
  if (seen) for (const e of items) if (!seen.has(e.id)) notify(e);
  seen = new Set(items.map((e) => e.id));
  pending = items.length;
  applyTitle();
  clearInterval(timer);
  timer = pending > 0 ? setInterval(() => beep(3), REPEAT_MS) : null;
  // Another level may acknowledge where this feed does not reach: look again
  // every minute while something waits.
  clearTimeout(poll);
  poll = pending > 0 ? setTimeout(refreshAlerts, 60000) : null;
}

/** Start for a signed-in user (police liaisons only); `live` is the feed. */
export function startAlerts(me, live) {
  stopAlerts();
  if (!me || me.role !== 'police_liaison') return;
  const soon = debounce(refresh, 300);
  refreshSoon = soon;
  stopFeed = [
    live.onEvent((ev) => { if (String(ev.event).startsWith('escalation.')) soon(); }),
    live.onFrame((f) => { if (f.type === 'hello') soon(); }),
  ];
  refresh();
}

export function stopAlerts() {
  stopFeed.forEach((d) => d());
  stopFeed = [];
  clearInterval(timer);
  clearTimeout(poll);
  timer = null;
  poll = null;
  refreshSoon = null;
  pending = 0;
  seen = null;
  applyTitle();
}
