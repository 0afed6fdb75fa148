/*
 * Local stand-in for https://cdn.shopify.com/shopifycloud/polaris.js (sandbox demo, browser
 * tests): minimal custom elements with the names, attributes, properties and events of Polaris
 * web components that this app uses. Form fields and buttons render real <label>/<input>/
 * <select>/<button> inside an open shadow root, so they are accessible by label and role;
 * layout elements (stack, table...) are styled light DOM with ARIA roles.
 */
(function () {
  "use strict";
  if (window.customElements.get("s-page")) return;

  const BASE_CSS = `
    :host { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #303030; }
    button { font: inherit; cursor: pointer; border-radius: 8px; padding: 6px 12px; border: 1px solid #c9c9c9;
      background: #fff; color: #303030; box-shadow: 0 1px 0 rgba(0,0,0,.08); }
    button:hover { background: #f7f7f7; }
    button:focus-visible, input:focus-visible, select:focus-visible { outline: 2px solid #005bd3; outline-offset: 1px; }
    button[disabled] { opacity: .5; cursor: not-allowed; }
    label { display: block; margin-bottom: 4px; font-weight: 500; }
    input, select { font: inherit; box-sizing: border-box; width: 100%; padding: 6px 10px; border: 1px solid #8a8a8a;
      border-radius: 8px; background: #fff; min-height: 32px; }
    input:disabled, select:disabled { background: #f7f7f7; color: #616161; border-color: #d4d4d4; }
    .details { color: #616161; margin-top: 4px; font-size: 12px; }
    .error { color: #8e1f0b; margin-top: 4px; font-size: 12px; }
    label.exclusive { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  `;

  /** labelAccessibilityVisibility="exclusive": the label is for assistive technology only. */
  function labelClass(el) {
    return el.getAttribute("labelAccessibilityVisibility") === "exclusive" ? ' class="exclusive"' : "";
  }

  function shadow(el, html) {
    const root = el.shadowRoot || el.attachShadow({ mode: "open" });
    root.innerHTML = `<style>${BASE_CSS}</style>${html}`;
    return root;
  }

  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  }

  let counter = 0;

  class Page extends HTMLElement {
    static get observedAttributes() { return ["heading"]; }
    connectedCallback() { this.render(); }
    attributeChangedCallback() { if (this.shadowRoot) this.render(); }
    render() {
      shadow(this, `<style>:host{display:block;max-width:1100px;margin:0 auto;padding:16px 20px 48px}
        header{display:flex;align-items:center;justify-content:space-between;gap:12px;margin-bottom:16px}
        h1{font-size:20px;margin:0;font-weight:650}</style>
        <header><h1>${esc(this.getAttribute("heading"))}</h1><div><slot name="primary-action"></slot></div></header>
        <slot></slot>`);
    }
  }

  class Section extends HTMLElement {
    static get observedAttributes() { return ["heading"]; }
    connectedCallback() { this.render(); }
    attributeChangedCallback() { if (this.shadowRoot) this.render(); }
    render() {
      const heading = this.getAttribute("heading");
      shadow(this, `<style>:host{display:block;background:#fff;border-radius:12px;padding:16px;margin-bottom:16px;
        box-shadow:0 1px 0 rgba(26,26,26,.07),0 0 0 1px rgba(0,0,0,.06)} h2{font-size:14px;margin:0 0 12px;font-weight:650}</style>
        <section aria-label="${esc(heading)}">${heading ? `<h2>${esc(heading)}</h2>` : ""}<slot></slot></section>`);
    }
  }

  class Button extends HTMLElement {
    static get observedAttributes() { return ["disabled", "loading", "variant", "tone", "accessibilitylabel", "aria-pressed"]; }
    connectedCallback() { this.render(); }
    attributeChangedCallback() { if (this.shadowRoot) this.render(); }
    get disabled() { return this.hasAttribute("disabled"); }
    set disabled(v) { this.toggleAttribute("disabled", Boolean(v)); }
    get loading() { return this.hasAttribute("loading"); }
    set loading(v) { this.toggleAttribute("loading", Boolean(v)); }
    render() {
      const variant = this.getAttribute("variant") || "secondary";
      const critical = this.getAttribute("tone") === "critical";
      const label = this.getAttribute("accessibilityLabel");
      const pressed = this.getAttribute("aria-pressed");
      const off = this.disabled || this.loading;
      const colours = variant === "primary"
        ? (critical ? "background:#c70a24;color:#fff;border-color:#c70a24" : "background:#303030;color:#fff;border-color:#303030")
        : variant === "tertiary" ? `background:transparent;border-color:transparent;box-shadow:none${critical ? ";color:#8e1f0b" : ""}`
        : critical ? "color:#8e1f0b" : "";
      shadow(this, `<style>:host{display:inline-block} button, button:hover{${colours}}
        button:hover{filter:brightness(.95)}</style>
        <button type="button" part="button" ${off ? "disabled" : ""} ${label ? `aria-label="${esc(label)}"` : ""}
          ${pressed ? `aria-pressed="${esc(pressed)}"` : ""} ${this.loading ? 'aria-busy="true"' : ""}><slot></slot>${this.loading ? " …" : ""}</button>`);
    }
  }

  /** Text-like fields: s-text-field, s-password-field, s-number-field, s-search-field, s-url-field,
   * s-date-field (its value an ISO day, 2026-12-05, as Polaris's). */
  function fieldClass(inputType) {
    return class extends HTMLElement {
      static get observedAttributes() { return ["label", "error", "details", "disabled", "placeholder", "readonly"]; }
      constructor() { super(); this._value = ""; this._id = "f" + ++counter; }
      connectedCallback() { if (this.hasAttribute("value") && !this._set) this._value = this.getAttribute("value"); this.render(); }
      attributeChangedCallback() { if (this.shadowRoot) this.render(); }
      get value() { const i = this.input; return i ? i.value : this._value; }
      set value(v) { this._set = true; this._value = v == null ? "" : String(v); if (this.input) this.input.value = this._value; }
      get name() { return this.getAttribute("name") || ""; }
      get input() { return this.shadowRoot && this.shadowRoot.querySelector("input"); }
      focus() { if (this.input) this.input.focus(); }
      render() {
        const current = this.input ? this.input.value : this._value;
        const a = (n) => this.getAttribute(n);
        const error = a("error");
        const root = shadow(this, `<style>:host{display:block;margin-bottom:12px}</style>
          <label for="${this._id}"${labelClass(this)}>${esc(a("label"))}</label>
          <input id="${this._id}" type="${inputType}" placeholder="${esc(a("placeholder") || "")}"
            ${this.hasAttribute("disabled") ? "disabled" : ""} ${this.hasAttribute("readonly") ? "readonly" : ""}
            ${error ? 'aria-invalid="true"' : ""} autocomplete="${inputType === "password" ? "new-password" : "off"}">
          ${a("details") ? `<div class="details">${esc(a("details"))}</div>` : ""}
          ${error ? `<div class="error" role="alert">${esc(error)}</div>` : ""}`);
        const input = root.querySelector("input");
        input.value = current;
        input.addEventListener("change", () => this.dispatchEvent(new Event("change", { bubbles: true })));
      }
    };
  }

  class Select extends HTMLElement {
    static get observedAttributes() { return ["label", "disabled", "details", "error"]; }
    constructor() { super(); this._id = "s" + ++counter; this._value = null; }
    connectedCallback() {
      this.render();
      this._observer = new MutationObserver(() => this.render());
      this._observer.observe(this, { childList: true, subtree: true, attributes: true, characterData: true });
    }
    disconnectedCallback() { if (this._observer) this._observer.disconnect(); }
    attributeChangedCallback() { if (this.shadowRoot) this.render(); }
    get select() { return this.shadowRoot && this.shadowRoot.querySelector("select"); }
    get value() { return this.select ? this.select.value : (this._value ?? this.getAttribute("value") ?? ""); }
    set value(v) { this._value = v == null ? "" : String(v); if (this.select) this.select.value = this._value; }
    get name() { return this.getAttribute("name") || ""; }
    focus() { if (this.select) this.select.focus(); }
    render() {
      // The last value set or chosen wins: options may arrive after the value (async re-render).
      const current = this._value ?? (this.select ? this.select.value : this.getAttribute("value"));
      const a = (n) => this.getAttribute(n);
      const options = Array.from(this.querySelectorAll("s-option")).map((o) =>
        `<option value="${esc(o.getAttribute("value") ?? o.textContent)}" ${o.hasAttribute("disabled") ? "disabled" : ""}>${esc(o.textContent)}</option>`).join("");
      const placeholder = a("placeholder") ? `<option value="">${esc(a("placeholder"))}</option>` : "";
      const root = shadow(this, `<style>:host{display:block;margin-bottom:12px}</style>
        <label for="${this._id}"${labelClass(this)}>${esc(a("label"))}</label>
        <select id="${this._id}" ${this.hasAttribute("disabled") ? "disabled" : ""}>${placeholder}${options}</select>
        ${a("details") ? `<div class="details">${esc(a("details"))}</div>` : ""}
        ${a("error") ? `<div class="error" role="alert">${esc(a("error"))}</div>` : ""}`);
      const select = root.querySelector("select");
      if (current != null && Array.from(select.options).some((o) => o.value === current)) select.value = current;
      select.addEventListener("change", () => {
        this._value = select.value;
        this.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
  }

  class Checkbox extends HTMLElement {
    static get observedAttributes() { return ["label", "disabled"]; }
    constructor() { super(); this._id = "c" + ++counter; this._checked = false; }
    connectedCallback() { if (this.hasAttribute("checked")) this._checked = true; this.render(); }
    attributeChangedCallback() { if (this.shadowRoot) this.render(); }
    get box() { return this.shadowRoot && this.shadowRoot.querySelector("input"); }
    get checked() { return this.box ? this.box.checked : this._checked; }
    set checked(v) { this._checked = Boolean(v); if (this.box) this.box.checked = this._checked; }
    render() {
      const root = shadow(this, `<style>:host{display:block;margin-bottom:8px} input{width:auto;min-height:0}
        label{display:inline;font-weight:400;margin-left:6px}</style>
        <input type="checkbox" id="${this._id}" ${this.hasAttribute("disabled") ? "disabled" : ""}>
        <label for="${this._id}">${esc(this.getAttribute("label"))}</label>`);
      root.querySelector("input").checked = this._checked;
      root.querySelector("input").addEventListener("change", (e) => {
        this._checked = e.target.checked;
        this.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
  }

  class Banner extends HTMLElement {
    static get observedAttributes() { return ["heading", "tone"]; }
    connectedCallback() { this.render(); }
    attributeChangedCallback() { if (this.shadowRoot) this.render(); }
    render() {
      const tone = this.getAttribute("tone") || "info";
      const colours = { critical: "#fee9e8;border-color:#e51c00", warning: "#fff1e3;border-color:#ffb800",
        success: "#cdfee1;border-color:#29845a", info: "#eaf4ff;border-color:#0094d5" }[tone] || "#f1f1f1;border-color:#8a8a8a";
      const role = tone === "critical" || tone === "warning" ? "alert" : "status";
      shadow(this, `<style>:host{display:block;margin-bottom:12px} div{background:${colours};border-left:4px solid;
        border-radius:8px;padding:10px 14px} strong{display:block;margin-bottom:2px}</style>
        <div role="${role}">${this.getAttribute("heading") ? `<strong>${esc(this.getAttribute("heading"))}</strong>` : ""}<slot></slot></div>`);
    }
  }

  class Link extends HTMLElement {
    static get observedAttributes() { return ["href"]; }
    connectedCallback() { this.render(); }
    attributeChangedCallback() { if (this.shadowRoot) this.render(); }
    render() {
      shadow(this, `<style>a{color:#005bd3;text-decoration:none} a:hover{text-decoration:underline}
        :host([aria-current="page"]) a{color:#303030;font-weight:650}</style>
        <a href="${esc(this.getAttribute("href") || "#")}" part="link"><slot></slot></a>`);
    }
  }

  const roles = {
    "s-table": "table", "s-table-header-row": "row", "s-table-header": "columnheader",
    "s-table-body": "rowgroup", "s-table-row": "row", "s-table-cell": "cell",
  };
  class Plain extends HTMLElement {
    connectedCallback() {
      const role = roles[this.localName];
      if (role && !this.hasAttribute("role")) this.setAttribute("role", role);
      if (this.localName === "s-spinner") {
        this.setAttribute("role", "status");
        this.setAttribute("aria-label", this.getAttribute("accessibilityLabel") || "…");
      }
    }
  }

  const define = (name, cls) => customElements.define(name, cls);
  define("s-page", Page);
  define("s-section", Section);
  define("s-button", Button);
  define("s-text-field", fieldClass("text"));
  define("s-password-field", fieldClass("password"));
  define("s-number-field", fieldClass("number"));
  define("s-search-field", fieldClass("search"));
  define("s-url-field", fieldClass("url"));
  define("s-date-field", fieldClass("date"));
  define("s-select", Select);
  define("s-checkbox", Checkbox);
  define("s-banner", Banner);
  define("s-link", Link);
  ["s-option", "s-stack", "s-box", "s-grid", "s-text", "s-paragraph", "s-heading", "s-badge", "s-divider",
    "s-spinner", "s-app-nav", "s-table", "s-table-header-row", "s-table-header", "s-table-body",
    "s-table-row", "s-table-cell"].forEach((name) => define(name, class extends Plain {}));

  const style = document.createElement("style");
  style.textContent = `
    body { margin: 0; background: #f1f1f1; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #303030; }
    s-option { display: none; }
    s-stack { display: flex; flex-direction: column; gap: 12px; }
    s-stack[direction="inline"] { flex-direction: row; flex-wrap: wrap; align-items: center; }
    s-stack[gap="small-200"], s-stack[gap="small"] { gap: 6px; }
    s-stack[gap="large"] { gap: 20px; }
    s-grid { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); }
    s-box { display: block; }
    s-box[padding="base"] { padding: 12px; }
    s-box[background="subdued"] { background: #f7f7f7; border-radius: 8px; }
    s-heading { display: block; font-weight: 650; font-size: 14px; margin: 4px 0 8px; }
    s-paragraph { display: block; margin: 0 0 8px; }
    s-text[type="strong"] { font-weight: 650; }
    s-text[tone="subdued"], s-text[color="subdued"] { color: #616161; }
    s-text[tone="critical"] { color: #8e1f0b; }
    s-divider { display: block; border-top: 1px solid #e3e3e3; margin: 12px 0; }
    s-spinner { display: inline-block; width: 16px; height: 16px; border: 2px solid #c9c9c9; border-top-color: #303030;
      border-radius: 50%; animation: s-spin .8s linear infinite; }
    @keyframes s-spin { to { transform: rotate(360deg); } }
    s-badge { display: inline-block; padding: 2px 8px; border-radius: 8px; font-size: 12px; font-weight: 550;
      background: #e3e3e3; color: #303030; white-space: nowrap; }
    s-badge[tone="success"] { background: #affebf; color: #014b40; }
    s-badge[tone="critical"] { background: #fedad9; color: #8e0b21; }
    s-badge[tone="warning"] { background: #ffd6a4; color: #5e4200; }
    s-badge[tone="caution"] { background: #fff4a4; color: #4f4700; }
    s-badge[tone="info"] { background: #e0f0ff; color: #00527c; }
    s-app-nav { display: flex; gap: 4px; padding: 8px 20px; background: #fff; border-bottom: 1px solid #e3e3e3;
      flex-wrap: wrap; }
    s-app-nav s-link { padding: 6px 10px; border-radius: 8px; }
    s-app-nav s-link[aria-current="page"] { background: #f1f1f1; }
    s-app-nav s-link[rel="home"] { display: none; }
    s-table { display: table; width: 100%; border-collapse: collapse; }
    s-table-header-row, s-table-row { display: table-row; }
    s-table-body { display: table-row-group; }
    s-table-header, s-table-cell { display: table-cell; padding: 8px 10px; border-bottom: 1px solid #ebebeb; vertical-align: middle; }
    s-table-header { font-weight: 600; color: #616161; background: #f7f7f7; text-align: left; }
    s-table-header[format="numeric"], s-table-cell[format="numeric"] { text-align: right; }
  `;
  document.head.appendChild(style);
})();
