// Entry point: session, shell (top bar, offline banner), hash router.
import { h, replace } from './dom.js';
import { t, getLang, setLang, onLangChange, ready as langReady } from './i18n.js';
import { get, post, onUnauthorized } from './api.js';
import { live } from './live.js';
import { applyTitle, askNotifications, startAlerts, stopAlerts } from './alerts.js';
import { UNIT_ROLES, resetCaches, toast, loadUnits, readsLedger } from './util.js';
import { renderLogin } from './views/login.js';

// The pages by route name, each loaded when first visited (the login page
// is all a first visit needs). A page is `render(container, ctx, arg)` and
// may return a cleanup function.
const VIEWS = {
  intake: () => import('./views/operator.js').then((m) => m.renderOperator),
  queue: () => import('./views/queue.js').then((m) => m.renderQueue),
  board: () => import('./views/board.js').then((m) => m.renderBoard),
  supervise: () => import('./views/supervisor.js').then((m) => m.renderSupervisor),
  admin: () => import('./views/admin.js').then((m) => m.renderAdmin),
  cases: () => import('./views/cases.js').then((m) => m.renderCases),
  case: () => import('./views/case.js').then((m) => m.renderCase),
  referrals: () => import('./views/referrals.js').then((m) => m.renderReferrals),
  referral: () => import('./views/referrals.js').then((m) => m.renderReferral),
  callbacks: () => import('./views/callbacks.js').then((m) => m.renderCallbacks),
  ledger: () => import('./views/ledger.js').then((m) => m.renderLedger),
  password: () => import('./views/password.js').then((m) => m.renderPassword),
  help: () => import('./views/help.js').then((m) => m.renderHelp),
};

const ctx = { me: null, live };
let cleanup = null;
let currentRoute = null;

const main = () => document.getElementById('main');

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}
ctx.navigate = navigate;
ctx.signedIn = () => signedIn();

function homeFor(me) {
  if (!me) return '#/login';
  if (me.must_change_password) return '#/password';
  if (me.role === 'operator') return '#/intake';
  if (UNIT_ROLES.includes(me.role)) return '#/queue';
  if (me.role === 'police_liaison') return '#/board';
  if (me.role === 'supervisor') return '#/supervise';
  if (me.role === 'admin') return '#/admin';
  return '#/cases';
}

function navItems(me) {
  if (!me || me.must_change_password) return [];
  // The ledger of left-behind women: for its keepers and supervisors only.
  return readsLedger(me) ? [...roleNav(me), ['#/ledger', 'nav.ledger'], ['#/ledger/report', 'nav.ledger_report']] : roleNav(me);
}

function roleNav(me) {
  switch (me.role) {
    case 'operator': return [['#/intake', 'nav.intake'], ['#/callbacks', 'nav.callbacks'], ['#/cases', 'nav.cases'], ['#/referrals', 'nav.referrals']];
    case 'station_worker': case 'mediator': case 'department': return [['#/queue', 'nav.queue'], ['#/cases', 'nav.cases'], ['#/referrals', 'nav.referrals']];
    case 'police_liaison': return [['#/board', 'nav.board'], ['#/cases', 'nav.cases']];
    case 'supervisor': return [['#/supervise', 'nav.supervise'], ['#/callbacks', 'nav.callbacks'], ['#/cases', 'nav.cases'], ['#/referrals', 'nav.referrals']];
    case 'admin': return [['#/admin', 'nav.admin'], ['#/cases', 'nav.cases'], ['#/referrals', 'nav.referrals']];
    default: return [['#/cases', 'nav.cases']];
  }
}

function renderTopbar() {
  const bar = document.getElementById('topbar');
  const me = ctx.me;
  const path = (location.hash || '').split('?')[0];
  const items = navItems(me);
  // The longest item the path is under is the current page (#/ledger/report, not #/ledger).
  const current = items.map(([href]) => href).filter((href) => path.startsWith(href)).sort((a, b) => b.length - a.length)[0];
  const nav = me ? h('nav', { 'aria-label': t('app.nav') }, h('ul', null, items.map(([href, key]) =>
    h('li', null, h('a', { href, 'aria-current': href === current ? 'page' : null }, t(key)))))) : null;
  const langBtn = h('button', {
    type: 'button', class: 'btn btn-ghost lang-switch', lang: getLang() === 'en' ? 'zh-CN' : 'en',
    'aria-label': t('app.lang_switch_label'), id: 'lang-switch',
    onclick: () => setLang(getLang() === 'en' ? 'zh-CN' : 'en'),
  }, t('app.lang_switch'));
  const user = me ? h('span', { class: 'who' },
    h('span', { class: 'who-name' }, me.display_name || me.username),
    h('span', { class: 'who-role' }, t(`role.${me.role}`))) : null;
  const help = me && !me.must_change_password ? h('a', { href: '#/help', class: 'btn btn-ghost help-link', id: 'help-link',
    'aria-current': path.startsWith('#/help') ? 'page' : null }, t('nav.help')) : null;
  const logout = me ? h('button', { type: 'button', class: 'btn btn-ghost', id: 'logout', onclick: doLogout }, t('app.logout')) : null;
  replace(bar,
    h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '连'),
      h('span', { class: 'brand-text' }, h('strong', null, t('app.brand')), h('span', { class: 'brand-sub' }, t('app.sub')))),
    nav, h('div', { class: 'topbar-right' }, user, help, langBtn, logout));
  applyTitle();
  document.getElementById('skip-link').textContent = t('app.skip');
}

async function doLogout() {
  try { await post('/auth/logout'); } catch (_) { /* the session may be gone already */ }
  signedOut();
}

// An explicit sign-out forgets drafts (they hold victims' details); an
// expired session keeps them, so nothing typed is lost by signing in again.
function signedOut({ keepDrafts = false } = {}) {
  ctx.me = null;
  live.stop();
  stopAlerts();
  resetCaches();
  if (!keepDrafts) { try { sessionStorage.clear(); } catch (_) { /* ignore */ } }
  renderTopbar();
  navigate('#/login');
}

export async function signedIn() {
  ctx.me = await get('/me');
  // A temporary password: nothing but choosing one's own until then.
  if (ctx.me.must_change_password) { renderTopbar(); navigate('#/password'); return; }
  live.start();
  askNotifications();
  startAlerts(ctx.me, live);
  loadUnits().catch(() => {});
  renderTopbar();
  navigate(homeFor(ctx.me));
}

// ---- offline banner ----
let bannerTimer = null;
let backTimer = null;
function renderBanner(state, info) {
  const el = document.getElementById('net-banner');
  clearInterval(bannerTimer);
  if (state === 'offline') {
    clearTimeout(backTimer);
    const paint = () => {
      const s = Math.max(0, Math.ceil((live.nextRetryAt - Date.now()) / 1000));
      replace(el, h('span', { class: 'net-text' }, t('net.offline', { n: live.attempt, s })), ' ',
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => live.reconnectNow() }, t('net.reconnect_now')));
    };
    el.className = 'net-banner net-offline';
    el.hidden = false;
    el.dataset.state = 'offline';
    paint();
    // Update only the text each second so the button keeps focus.
    bannerTimer = setInterval(() => {
      const span = el.querySelector('.net-text');
      const s = Math.max(0, Math.ceil((live.nextRetryAt - Date.now()) / 1000));
      if (span) span.textContent = t('net.offline', { n: live.attempt, s });
    }, 1000);
  } else if (state === 'online' && info.resumed) {
    el.className = 'net-banner net-back';
    el.dataset.state = 'online';
    replace(el, t('net.back'));
    el.hidden = false;
    backTimer = setTimeout(() => { el.hidden = true; }, 4000);
  } else if (state === 'online' || state === 'idle') {
    el.dataset.state = state;
    el.hidden = true;
  }
}
live.onState(renderBanner);

// If the session ran out while we were offline, the socket keeps failing:
// ask the server who we are every few failed attempts.
live.onState((state) => {
  if (state === 'offline' && live.attempt % 4 === 0) get('/me').catch(() => {});
});

// A ringing call takes the operator to the intake page wherever they are
// (drafts elsewhere are kept in sessionStorage); the intake view picks it up.
live.onFrame((f) => {
  if (f.type !== 'call.ringing' || !ctx.me || ctx.me.role !== 'operator') return;
  // On the intake page the view handles it — once it is there: a ring
  // that comes while the page still loads waits for it.
  if (parseRoute().name === 'intake') { if (!document.getElementById('caller-phone')) ctx.pendingRing = f; return; }
  ctx.pendingRing = f;
  navigate('#/intake');
});

// ---- router ----
function parseRoute() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const parts = hash.split('?')[0].split('/').filter(Boolean);
  return { name: parts[0] || '', args: parts.slice(1) };
}

let routeSeq = 0;
async function route() {
  const r = parseRoute();
  if (!ctx.me && r.name !== 'login') { navigate('#/login'); return; }
  if (ctx.me && (r.name === '' || r.name === 'login')) { navigate(homeFor(ctx.me)); return; }
  if (ctx.me && ctx.me.must_change_password && r.name !== 'password') { navigate('#/password'); return; }
  if (typeof cleanup === 'function') { try { cleanup(); } catch (e) { console.error(e); } }
  cleanup = null;
  const container = main();
  replace(container);
  renderTopbar();
  const key = `${r.name}/${r.args.join('/')}`;
  const sameRoute = key === currentRoute;
  currentRoute = key;
  const mine = ++routeSeq;
  let render;
  if (r.name === 'login') render = (c, x) => renderLogin(c, x, signedIn);
  else if (VIEWS[r.name]) {
    try {
      render = await VIEWS[r.name]();
    } catch (e) {
      // The page's file did not arrive (a dropped line): say so, offer a retry.
      if (mine === routeSeq) replace(container, h('p', { class: 'error', role: 'alert' }, t('err.network'), ' ',
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => route() }, t('net.reconnect_now'))));
      return;
    }
  }
  if (mine !== routeSeq) return; // the user moved on while the page loaded
  if (!render) { navigate(homeFor(ctx.me)); return; }
  try {
    cleanup = render(container, ctx, r.args[0]);
  } catch (e) {
    console.error(e);
    toast(String(e.message || e), 'error');
  }
  if (!sameRoute) {
    const heading = container.querySelector('h1');
    if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  }
}

window.addEventListener('hashchange', () => { currentRoute = null; route(); });
onLangChange(() => {
  route();
  renderBanner(live.state, {}); // the same state, in the new language
  const b = document.getElementById('lang-switch');
  if (b) b.focus();
});
onUnauthorized(() => { if (ctx.me) { toast(t('login.expired')); signedOut({ keepDrafts: true }); } });

async function boot() {
  await langReady;
  document.documentElement.lang = getLang();
  try {
    ctx.me = await get('/me');
  } catch (_) {
    ctx.me = null;
  }
  renderTopbar();
  if (ctx.me && !ctx.me.must_change_password) { live.start(); startAlerts(ctx.me, live); loadUnits().catch(() => {}); }
  route();
}

boot();
