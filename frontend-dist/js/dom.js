// Tiny DOM builder. Never uses innerHTML, so user text can't become markup,
// and never sets style attributes from strings (the CSP forbids them).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden') el[k] = !!v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

export function replace(el, ...children) { clear(el); return append(el, children); }

let uid = 0;
export function nextId(prefix = 'f') { uid += 1; return `${prefix}-${uid}`; }

/**
 * A labelled form field. `control` is an input/select/textarea; it gets an id,
 * a label, an optional hint and an error slot wired up with aria-describedby.
 * `name` is the API field name used to place server errors next to it.
 */
export function field(labelText, control, { name, hint, required, cls } = {}) {
  if (!control.id) control.id = nextId('f');
  const errId = `${control.id}-err`;
  const describedBy = [errId];
  const wrap = h('div', { class: ['field', cls], dataset: name ? { field: name } : undefined });
  const lab = h('label', { for: control.id }, labelText);
  if (required) {
    control.required = true;
    lab.append(h('span', { class: 'req', 'aria-hidden': 'true' }, ' *'));
  }
  wrap.append(lab);
  if (hint) {
    const hintId = `${control.id}-hint`;
    describedBy.unshift(hintId);
    wrap.append(h('p', { class: 'hint', id: hintId }, hint));
  }
  control.setAttribute('aria-describedby', describedBy.join(' '));
  wrap.append(control, h('p', { class: 'field-error', id: errId, hidden: true }));
  return wrap;
}

export function checkbox(labelText, input, { name } = {}) {
  if (!input.id) input.id = nextId('c');
  return h('div', { class: 'check', dataset: name ? { field: name } : undefined },
    input, h('label', { for: input.id }, labelText));
}

export function options(select, items, { placeholder, value } = {}) {
  clear(select);
  if (placeholder !== undefined) select.append(h('option', { value: '' }, placeholder));
  for (const [v, text] of items) select.append(h('option', { value: v }, text));
  if (value !== undefined) select.value = value;
  return select;
}
