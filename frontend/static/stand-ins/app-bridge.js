/*
 * Local stand-in for https://cdn.shopify.com/shopifycloud/app-bridge.js (sandbox demo, browser
 * tests). It offers the part of `window.shopify` this app uses:
 *   shopify.config           {apiKey, shop, host, locale}
 *   shopify.idToken()        an ID token for the staff member named by ?sandbox_user= (default
 *                            "owner"), fetched from the Shopify sandbox through the app's
 *                            /_stand-in/id_token route and cached until shortly before it expires
 *   shopify.toast.show(m,o)  a small toast at the bottom of the page
 * Production loads Shopify's real script; nothing here ships to merchants.
 */
(function () {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  const meta = document.querySelector('meta[name="shopify-api-key"]');
  const shop = (params.get("shop") || "").replace(/\.myshopify\.com$/, "");
  const user = params.get("sandbox_user") || "owner";
  let cached = null; // {token, exp}

  function expiry(token) {
    try {
      const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      return Number(payload.exp) || 0;
    } catch (e) {
      return 0;
    }
  }

  async function idToken() {
    const now = Date.now() / 1000;
    if (cached && cached.exp - 10 > now) return cached.token;
    const response = await fetch("/_stand-in/id_token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ shop: shop, user: user }),
    });
    if (!response.ok) throw new Error("stand-in: no ID token for " + user + " (" + response.status + ")");
    const token = (await response.json()).id_token;
    cached = { token: token, exp: expiry(token) };
    return token;
  }

  function toastRegion() {
    let region = document.getElementById("stand-in-toasts");
    if (!region) {
      region = document.createElement("div");
      region.id = "stand-in-toasts";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      region.style.cssText =
        "position:fixed;bottom:16px;left:50%;transform:translateX(-50%);z-index:1000;" +
        "display:flex;flex-direction:column;gap:8px;align-items:center";
      document.body.appendChild(region);
    }
    return region;
  }

  const toast = {
    show(message, options) {
      const opts = options || {};
      const item = document.createElement("div");
      item.className = "stand-in-toast";
      item.textContent = String(message);
      item.style.cssText =
        "padding:10px 16px;border-radius:10px;color:#fff;font:14px system-ui,sans-serif;" +
        "box-shadow:0 4px 12px rgba(0,0,0,.2);background:" + (opts.isError ? "#8e1f0b" : "#303030");
      toastRegion().appendChild(item);
      setTimeout(() => item.remove(), opts.duration || 4000);
      return "toast-" + Date.now();
    },
    hide() {},
  };

  window.shopify = {
    config: {
      apiKey: meta ? meta.content : "",
      shop: shop ? shop + ".myshopify.com" : "",
      host: params.get("host") || "",
      locale: params.get("locale") || "pt-BR",
    },
    idToken: idToken,
    toast: toast,
    standIn: true,
  };
})();
