/**
 * The one way the page talks to the app: every request carries
 * `Authorization: Bearer <ID token from shopify.idToken()>`. A 401 marked with
 * X-Shopify-Retry-Invalid-Session-Request is retried once with a fresh token. A 409 whose
 * `error.action` is /auth/session (the shop needs re-authorization, or lost its offline token)
 * opens the session again — token exchange with a fresh ID token, as at load — and is retried
 * once. A renewal that fails is not tried again for every refused call (a polling page would
 * exchange a token per poll): its answer stands for them until the page is reloaded (a 4xx:
 * e.g. the shop's grant lacks scopes the app requires) or for a minute (Shopify unreachable),
 * and a failure of the shop itself (needs_reauth) is announced with the `app:session-failed`
 * event (detail: the API's `error`), which main.js shows in place of the page.
 * Failures raise ApiError and, unless `quiet`, show it in a toast in the page's language
 * (`refusalText`: the catalogue's words for the error's `words` or code, the API's English message
 * only for a code the catalogue does not know); an invalid field's message goes on the page's input
 * of that name (its `error` attribute), the fields the page has no input for are listed in the
 * toast. A page that shows a failure in place (a banner) says it with `failureParts`: never the
 * API's English as the sentence, which stays a technical detail.
 */
import { fmtMoney, has, label, locale, t } from "./i18n.js";

const RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request";
const SESSION_PATH = "/auth/session";
const RETRY_FAILED_RENEWAL_MS = 60_000; // a renewal failed for a 5xx is tried again after this
let renewing = null; // the session being opened again, shared by the calls refused meanwhile
let failed = null; // {response, until}: the last renewal that failed, answered in its place

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

async function authorized(path, init) {
  const headers = new Headers(init.headers || {});
  headers.set("Authorization", `Bearer ${await window.shopify.idToken()}`);
  return fetch(path, { ...init, headers });
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const text = params.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

/** True when the API answered 409 naming /auth/session as the way out. */
async function needsSession(response) {
  if (response.status !== 409) return false;
  try {
    const body = await response.clone().json();
    return Boolean(body && body.error && body.error.action === SESSION_PATH);
  } catch (e) {
    return false;
  }
}

/** Remember a failed renewal (so the refused calls after it do not renew again) and, when the
 * shop itself cannot be used (needs_reauth: e.g. its grant lacks scopes), tell the page. */
async function renewalFailed(response) {
  const until = response.status < 500 ? Infinity : Date.now() + RETRY_FAILED_RENEWAL_MS;
  failed = { response, until };
  let error = null;
  try {
    error = ((await response.clone().json()) || {}).error || null;
  } catch (e) {
    error = null;
  }
  if (error && error.code === "needs_reauth") {
    window.dispatchEvent(new CustomEvent("app:session-failed", { detail: error }));
  }
}

/** POST /auth/session once for every call waiting on it; each caller gets its own copy. After
 * a failed renewal, its answer (until reload, or for a minute for a 5xx) without asking again. */
async function renewSession() {
  if (failed && Date.now() < failed.until) return failed.response.clone();
  if (!renewing) {
    const init = { method: "POST", headers: { Accept: "application/json", "Accept-Language": locale() } };
    renewing = authorized(SESSION_PATH, init)
      .then(async (response) => {
        if (!response.ok) await renewalFailed(response);
        return response;
      })
      .finally(() => {
        renewing = null;
      });
  }
  return (await renewing).clone();
}

/** Send a request; returns the Response (after the one retry on an invalid session, and the
 * one retry after opening the session again when the API asks for it). */
export async function send(path, { method = "GET", body, query, headers, raw } = {}) {
  // The API words its explanations in the page's language (Shopify's `locale`), not the browser's.
  const init = { method, headers: { Accept: "application/json", "Accept-Language": locale(), ...(headers || {}) } };
  if (body !== undefined) {
    if (raw) init.body = body;
    else {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
  }
  const url = withQuery(path, query);
  let response = await authorized(url, init);
  if (response.status === 401 && response.headers.get(RETRY_HEADER)) response = await authorized(url, init);
  if (path !== SESSION_PATH && (await needsSession(response))) {
    const session = await renewSession();
    if (!session.ok) return session; // why the session could not be opened is the news
    response = await authorized(url, init);
  }
  return response;
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  const error = (body && body.error) || {};
  const message = error.message || t("error.http", { status: response.status });
  return new ApiError(response.status, error.code || `http_${response.status}`, message, body);
}

/** A field's message from the API ("must be an integer") in the page's language: each known
 * wording's catalogue key, its numbers and names kept; an unknown one as the API wrote it. Every
 * message the API can answer has its line here (tests/api/test_api_field_messages_catalogued.py). */
const FIELD_WORDS = [
  [/^is required$/, "required"],
  [/^is required \(5 fields, UTC\)/, "cron_required"],
  [/^is required the first time$/, "password_first"],
  [/^is required when the address changes$/, "password_new_address"],
  [/^is required when the user changes$/, "password_new_user"],
  [/^the ERP lists no company (?<nro>\d+)$/, "erp_no_company"],
  [/^the ERP lists no segment (?<nro>\d+)$/, "erp_no_segment"],
  [/^the ERP lists no payment method (?<nro>\d+)$/, "erp_no_payment_method"],
  [/^is required: no password is stored yet$/, "password_first"],
  [/^is required to test another address than the saved one$/, "password_new_address"],
  [/^must be an integer$/, "integer"],
  [/^must be a string$/, "text"],
  [/^must be true or false$/, "boolean"],
  [/^must be an ISO 8601 time/, "iso_time"],
  [/^must be a day, e\.g\. /, "iso_day"],
  [/^must be a cursor the previous page gave/, "page_cursor"],
  [/^must be (?:text of )?at most (?<max>\d+) characters$/, "max_length"],
  [/^must be at least (?<min>\d+) characters$/, "min_length"],
  [/^must be at most (?<max>\d+) characters once composed \(NFC\), got (?<length>\d+)$/, "max_length_composed"],
  [/^must be (?:an integer )?between (?<min>\d+) and (?<max>\d+)$/, "between"],
  [/^must be one of (?<choices>.+)$/, "one_of"],
  [/^unknown field$/, "unknown"],
  [/^must be a Shopify staff user id$/, "user_id"],
  [/^the ERP has no order (?<nro>\d+)$/, "no_erp_order"],
  [/^'(?<cron>.*)' is not a valid 5-field cron expression/, "cron_invalid"],
  [/^'(?<cron>.*)' never fires/, "cron_never"],
  [/^'(?<cron>.*)' draws its times at random/, "cron_drawn"],
  [/^(?:the )?NROEMPRESA must be a number of 1 to 9 digits, not 0(?:, got .*)?$/, "company_number"],
  [/^must be ERP company numbers/, "company_numbers"],
  [/^company (?<company>\d+) appears twice$/, "company_twice"],
  [/^location (?<location>\S+) appears twice$/, "location_twice"],
  [/^“(?<code>.*)” appears twice: line (?<first>\d+) already maps it$/, "code_twice"],
  [/^location (?<location>\S+) is mapped to company (?<other>\d+) and company (?<company>\d+) is mapped to location (?<own>\S+):/, "location_conflict"],
  [/^a value is too long \(codes at most (?<max>\d+)\/255\)$/, "csv_value_too_long"],
  [/^missing column\(s\): (?<columns>.+)$/, "csv_columns_missing"],
  [/^unreadable CSV: a value longer than (?<max>\d+) characters$/, "csv_value_over_limit"],
  [/^unreadable CSV: a line break inside a value not in quotes$/, "csv_line_break"],
  [/^unreadable CSV: a quote opened from this line on is never closed$/, "csv_quote_open"],
  [/^unreadable CSV: text after a value's closing quote$/, "csv_after_quote"],
  [/^unreadable CSV$/, "csv_unreadable"],
  [/^a value holds “\uFFFD”: the file is not UTF-8/, "csv_encoding"],
  [/^a JSON object is required$/, "json_object"],
  [/^a location id has at most (?<max>\d+) characters$/, "location_id_length"],
  [/^both the Shopify code and the ERP code are required$/, "codes_required"],
  [/^contains NUL$/, "nul"],
  [/^(?<location>\S+) is not one of the shop's locations/, "location_not_in_shop"],
  [/^“(?<location>.*)” is not a Shopify location/, "not_a_location"],
  [/^must be a list of at most (?<max>\d+) ERP company numbers$/, "companies_max"],
  [/^must be a list of at most (?<max>\d+) order source names$/, "sources_max"],
  [/^must be a list of at most (?<max>\d+) payment method names$/, "gateways_max"],
  [/^must be a list of at most (?<max>\d+) order attribute names$/, "attributes_max"],
  [/^must be a list of at most (?<max>\d+) e-mail addresses$/, "emails_max"],
  [/^must be e-mail addresses \(name@domain\.com\): (?<bad>.*)$/, "emails"],
  [/^must be a list of at most (?<max>\d+) items$/, "list_max"],
  [/^must be an http\(s\) URL/, "url"],
  [/^must be an object$/, "object"],
  [/^must be null or a list of at most (?<max>\d+) publication ids$/, "publications_max"],
  [/^must be order source names \(text of 1 to (?<max>\d+) characters\)$/, "sources"],
  [/^must be payment method names \(text of 1 to (?<max>\d+) characters\)$/, "gateways"],
  [/^must be order attribute names \(text of 1 to (?<max>\d+) characters\)$/, "attributes"],
  [/^must be publication ids/, "publications"],
  [/^must be the CSV text$/, "csv"],
  [/^must not hold a user or password/, "url_credentials"],
  [/^must be the API's base address, without a query/, "url_query"],
  [/^name at least one setting$/, "setting_required"],
  [/^nested more than (?<max>\d+) levels deep$/, "nesting"],
  [/^the ERP address (?<host>\S+) points to (?<ip>\S+), an internal address/, "address_internal"],
  [/^the ERP address must start with https:\/\/ \(not (?<scheme>[^:]*):\/\/\)/, "address_https"],
  [/^the ERP card brand \(codBandeira\) must be a number/, "card_brand_number"],
  [/^the ERP card network \(codRede\) must be a number/, "card_network_number"],
  [/^the ERP carrier \(SEQTRANSPORTADOR\) must be a number/, "carrier_number"],
  [/^the ERP code must be '<empresa>:<segmento>'/, "segment_market_code"],
  [/^the Shopify side must be one of the shop's markets/, "segment_market_shopify"],
  [/^the ERP host '(?<host>.*)' was not found/, "address_unknown_host"],
  [/^the ERP payment method \(NROFORMAPAGTO\) must be a number/, "payment_method_number"],
  [/^too long$/, "too_long"],
  [/^unknown field\(s\): (?<fields>.+)$/, "unknown_fields"],
  [/^unknown mapping kind '(?<kind>.*)'$/, "mapping_kind"],
  [/^unknown setting$/, "unknown_setting"],
  [/^unstorable text$/, "unstorable"],
];

export function fieldText(text) {
  for (const [pattern, key] of FIELD_WORDS) {
    const found = pattern.exec(String(text));
    if (found) return t(`error.field.${key}`, found.groups || {});
  }
  return String(text);
}

const MONEY_PARAMS = new Set(["allowed", "erp_total", "shopify_total"]);

/** A refusal's values as the catalogue's sentence shows them: a flow and a message status named in
 * the page's words, money as money; ids, numbers and names as they came. */
function sayParams(params) {
  const said = {};
  for (const [name, value] of Object.entries(params || {})) {
    if (name === "flow") said[name] = label("flow.", value);
    else if (name === "status") said[name] = label("status.", value);
    else if (MONEY_PARAMS.has(name) && value !== null && value !== undefined) said[name] = fmtMoney(value, params.currency);
    else said[name] = value;
  }
  return said;
}

/** The refusal in the page's language, or null when the catalogue has no words for it: the API's
 * `words` ({key, params}: the refusal's own case, `error.reason.<key>`, e.g. which order holds an
 * ERP number) first, else `error.code.<code>` filled from the error body's values. */
export function knownRefusal(error) {
  const extra = (error.body && error.body.error) || {};
  const words = extra.words;
  if (words && has(`error.reason.${words.key}`)) return t(`error.reason.${words.key}`, sayParams(words.params));
  const key = `error.code.${error.code}`;
  return has(key) ? t(key, { ...sayParams(extra), message: error.message }) : null;
}

/** The refusal in the page's language (`knownRefusal`), else the API's own message. */
export function refusalText(error) {
  const known = knownRefusal(error);
  return known === null ? error.message : known;
}

/**
 * What a failure shown in place (a banner) says: `text` in the page's language (`knownRefusal`,
 * else a generic sentence), `fields` the invalid fields as "name: message" in the page's words,
 * and `detail` for support, never the sentence: the API's English for a code the catalogue does
 * not know, else the outside system's own words (`upstream_message`: the ERP's, Shopify's), if any.
 */
export function failureParts(error) {
  const extra = (error.body && error.body.error) || {};
  const known = error.status === 403 ? t("error.forbidden") : knownRefusal(error);
  const fields = Object.entries(extra.fields || {}).map(([name, text]) => `${fieldName(name)}: ${fieldText(text)}`);
  const detail = known === null ? error.message : extra.upstream_message;
  return { text: known === null ? t("error.unexpected") : known, fields, detail: detail || null };
}

/** A refused field in the page's words: `field.<name>`, else a setting's own label (PUT
 * /api/setup/settings names its fields by their keys: `setup.settings.<key>`), else an item's field
 * of a list by that field's label and the item's place ("mappings[1].nro_empresa": line 2), else the
 * name as the API gave it. */
export function fieldName(name) {
  if (has(`field.${name}`)) return t(`field.${name}`);
  if (has(`setup.settings.${name}`)) return t(`setup.settings.${name}`);
  const item = /^[a-z_]+\[(\d+)\]\.([a-z_]+)$/.exec(String(name));
  if (item && has(`field.${item[2]}`)) return t("field.item_of_line", { field: t(`field.${item[2]}`), line: Number(item[1]) + 1 });
  return label("field.", name);
}

let marked = []; // the inputs the last refusal put an error on, cleared on the next request

/** Each invalid field's message on the page's input named so (`form`, else the whole page), which
 * loses it on the next request; the fields with no such input, listed as "name: message". */
function showFields(error, form) {
  const fields = ((error.body && error.body.error) || {}).fields || {};
  const unplaced = [];
  for (const [name, text] of Object.entries(fields)) {
    const input = (form || document).querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) {
      input.setAttribute("error", fieldText(text));
      marked.push(input);
    } else unplaced.push(`${fieldName(name)}: ${fieldText(text)}`);
  }
  return unplaced;
}

function clearFields() {
  for (const input of marked) input.removeAttribute("error");
  marked = [];
}

/** What the toast of a refusal says: its words, then the fields no input shows. */
function toastText(error, status, form) {
  const text = status === 403 ? t("error.forbidden") : refusalText(error);
  const unplaced = showFields(error, form);
  return unplaced.length ? `${text} ${unplaced.join("; ")}` : text;
}

/** Toast a refusal and mark it told: a button's handler need not catch it (main.js keeps a told
 * refusal from surfacing as an uncaught page error). */
function shown(error, text) {
  window.shopify.toast.show(text, { isError: true });
  error.shown = true;
}

/** JSON request: resolves to the parsed body, throws ApiError (toasted unless `quiet`). `form`:
 * the element whose named inputs show the invalid fields (default: the page). */
export async function api(path, options = {}) {
  let response;
  if (!options.quiet) clearFields();
  try {
    response = await send(path, options);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    const error = new ApiError(0, "network", t("error.network"));
    if (!options.quiet) shown(error, error.message);
    throw error;
  }
  if (!response.ok) {
    const error = await failure(response);
    if (!options.quiet) shown(error, toastText(error, response.status, options.form));
    throw error;
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

/** Download an authenticated file (e.g. the De:Para CSV) through a temporary object URL. */
export async function download(path, filename, options = {}) {
  const response = await send(path, options);
  if (!response.ok) {
    const error = await failure(response);
    window.shopify.toast.show(toastText(error, response.status, options.form), { isError: true });
    throw error;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Tell the user something went right. */
export function toast(message) {
  window.shopify.toast.show(message);
}
