// What every browser test file shares: the server's address, a browser,
// one page per role (recording CSP violations and page errors), sign-in,
// screenshots and the API calls a test uses to set the scene.
//
// run.sh runs console.test.mjs first, then every other *.test.mjs in this
// directory against the same server and demo province; each file launches
// its own browser and must not depend on another file's state.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const BASE = process.env.BASE_URL || 'http://127.0.0.1:8080';
export const SHOTS = process.env.SCREENSHOT_DIR || path.resolve('ci-artifacts/screenshots');
export const PASSWORD = '12338-demo-hotline';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

fs.mkdirSync(SHOTS, { recursive: true });

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
    // Playwright gives every launch a fresh, temporary user-data-dir (it
    // refuses an explicit --user-data-dir for non-persistent launches).
  });
}

/** A page in its own context; CSP violations and page errors go to `problems`. */
export async function rolePage(browser, name, problems, { width = 1366, height = 768, locale = 'zh-CN' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.wsUrls = [];
  page.on('websocket', (ws) => page.wsUrls.push(ws.url()));
  page.on('pageerror', (e) => problems.push(`[${name}] page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to (apply|execute|load)/i.test(text)) problems.push(`[${name}] ${text}`);
  });
  return page;
}

export async function login(page, username, password = PASSWORD) {
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#login-form');
  await page.fill('#login-form input[name=username]', username);
  await page.fill('#login-form input[name=password]', password);
  await page.click('#login-submit');
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

/** Form controls without an accessible name (WCAG 1.3.1 / 4.1.2). */
export async function unlabeled(page) {
  return page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.name || el.id || el.outerHTML.slice(0, 80)));
}

export async function apiLogin(username) {
  const r = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(r.status, 200, `API login of ${username}`);
  return (await r.json()).token;
}

/** An API call that must succeed; answers the JSON body. */
export async function api(token, method, p, body) {
  const r = await fetch(`${BASE}/api/v1${p}`, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json().catch(() => null);
  assert.ok(r.ok, `${method} ${p} → ${r.status} ${JSON.stringify(data)}`);
  return data;
}

export const apiPost = (token, p, body) => api(token, 'POST', p, body);
export const apiGet = (token, p) => api(token, 'GET', p);
