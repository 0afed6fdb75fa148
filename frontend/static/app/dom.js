/**
 * A tiny element builder: h("s-button", {variant: "primary", onclick: fn}, t("common.save")).
 * Text always goes in as text nodes (never innerHTML), so data from the ERP or Shopify cannot
 * inject markup. Props: `on<event>` adds a listener, `.name` sets a property, `true` sets a
 * boolean attribute, `false`/null/undefined skips it, anything else becomes an attribute.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key.startsWith(".")) el[key.slice(1)] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** How often a live page re-reads: `ms`, unless the page's shell says otherwise (its app-poll-ms,
 * the app's FRONTEND_POLL_MS: the browser tests' shorter wait). */
export function pollEvery(ms) {
  const meta = document.querySelector('meta[name="app-poll-ms"]');
  const set = meta ? Number(meta.getAttribute("content")) : NaN;
  return set > 0 ? set : ms;
}

/** Append children (strings, numbers, nodes, nested arrays; null/false skipped). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A Polaris table: headers is a list of labels (or {label, format}), rows a list of cell lists.
 * Returns the table in its scrolling wrapper (`scrolling`); `attrs` go on the s-table, `wrapperAttrs`
 * on the wrapper. */
export function table(headers, rows, attrs, wrapperAttrs) {
  const grown = growingTable(headers, attrs, wrapperAttrs);
  grown.add(rows);
  return grown.element;
}

/** `el` (a table) in a wrapper that scrolls it sideways when it is wider than its card: on a phone
 * (Shopify's admin at 375 px) a table wider than the screen widened the whole document, and every
 * page scrolled sideways. The wrapper is the app's own element, so it holds whatever the Polaris
 * on the page (Shopify's, or the local stand-in) draws inside s-table. */
export function scrolling(el, attrs) {
  return h("div", { ...(attrs || {}), class: ["table-scroll", attrs && attrs.class].filter(Boolean).join(" ") }, el);
}

/**
 * A table rows are added to later (a list read page by page): {element, add(rows)}, rows being
 * cell lists or ready s-table-row nodes; `element` is the table in its scrolling wrapper.
 */
export function growingTable(headers, attrs, wrapperAttrs) {
  const formats = headers.map((c) => (typeof c === "string" ? null : c.format));
  const body = h("s-table-body", {});
  const element = scrolling(h("s-table", attrs || {},
    h("s-table-header-row", {}, headers.map((c) => (typeof c === "string"
      ? h("s-table-header", {}, c) : h("s-table-header", { format: c.format }, c.label)))), body), wrapperAttrs);
  const add = (rows) => append(body, rows.map((cells) => (cells instanceof Node ? cells
    : h("s-table-row", {}, cells.map((c, i) => h("s-table-cell", { format: formats[i] }, c))))));
  return { element, add };
}

/** A select with options [{value, label}], preselected `value`. `fit`: never narrower than its
 * longest option (a select in a table cell shrank to the cell: "Proprietário" read "Proprietári"). */
export function select(props, options, value, { fit = false } = {}) {
  const el = h("s-select", props, options.map((o) => h("s-option", { value: o.value }, o.label)));
  if (value !== undefined && value !== null) el.value = String(value);
  if (fit) fitLongestOption(el, options);
  return el;
}

/** A select's least width: its longest option's characters plus the padding and the arrow. */
export function fitLongestOption(el, options) {
  const longest = Math.max(0, ...options.map((o) => String(o.label).length));
  el.style.minWidth = `calc(${longest + 1}ch + 3rem)`;
  return el;
}
