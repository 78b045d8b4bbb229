// JSON over fetch with the session cookie; errors become ApiError with the
// server's {code, message, field}.
import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

let unauthorizedHandler = null;
export function onUnauthorized(fn) { unauthorizedHandler = fn; }

export async function api(method, path, body, { raw, type } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (raw !== undefined) {
    init.headers['Content-Type'] = type || 'application/octet-stream';
    init.body = raw;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch (_) {
    throw new ApiError(0, 'network', t('err.network'));
  }
  const text = res.status === 204 ? '' : await res.text().catch(() => '');
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch (_) { data = null; } }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.code || `http_${res.status}`, e.message || res.statusText, e.field);
    if (res.status === 401 && !path.startsWith('/auth/') && unauthorizedHandler) unauthorizedHandler();
    throw err;
  }
  return data;
}

export const get = (p) => api('GET', p);
export const post = (p, b) => api('POST', p, b === undefined ? {} : b);
/** A file as the raw body (an import). */
export const upload = (p, file) => api('POST', p, undefined, { raw: file, type: file.type || 'application/octet-stream' });

/**
 * A message for the user in the reader's language, from the error's code and
 * field (never the server's English text): `err.field.<field>` for a field
 * the server rejected, `err.<code>` for every other code, a generic line
 * naming the code when this console does not know it yet.
 */
export function errorText(err) {
  if (!err) return '';
  if (!err.code) return err.message || '';
  if (err.code === 'validation_failed') {
    if (err.field) {
      const f = String(err.field);
      const key = [f, f.replace(/\[\d+\]/g, ''), f.split('.').pop()].find((k) => t(`err.field.${k}`) !== `err.field.${k}`);
      if (key) return t(`err.field.${key}`);
    }
    return t('err.validation_failed');
  }
  const own = t(`err.${err.code}`);
  if (own !== `err.${err.code}`) return own;
  return t('err.unknown', { msg: err.code });
}

/** Query string from an object, skipping empty values. */
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}
