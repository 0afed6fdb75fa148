/**
 * The flows dashboard: one row per flow (schedule, last/next run and what became of it,
 * watermark, counts, progress, "run now"), what needs attention (open failures per flow, the
 * runs and jobs that failed for good, requeued from here) and the last 24 hours' chart. Counts
 * of open work (failed, parked, retrying, and interrupted: pending units whose job was lost) have
 * no time limit, as the Messages list they link to; done is the last 24 hours' (its link lists those). Live without reloading: every few seconds the page asks
 * /api/flows/changes whether anything moved and re-reads the rows and charts only when it did,
 * and at least every FULL_MS whatever it says (the cursor is the latest change's time: a write
 * whose transaction commits after one stamped later is not newer than what the page has seen),
 * and when RQ's failed registries hold another number of jobs than when its failed list was read.
 * With the scheduler stopped nothing runs by itself, and no alert e-mail says so: a critical banner
 * does, and a schedule whose due run was not started is marked overdue beside its next run.
 */
import { api, failureParts, toast } from "../api.js";
import { h, pollEvery, replace, table } from "../dom.js";
import { fmtDate, fmtNumber, has, label, t, timeZone } from "../i18n.js";
import { barList, hourChart } from "../chart.js";
import { href } from "../router.js";
import { busyButton, driftLine, failureBanner, roleText, technicalDetail } from "../widgets.js";

export const POLL_MS = pollEvery(3000);
export const FULL_MS = 30000;

/** A watermark's scope in words: "1:2" (prices: company 1, segment 2), "list:1:2:<market>" (a
 * market's price list), "1" (stock: company 1), "orders_closed" (stock: the closed orders read). */
export function scopeText(scope) {
  let found = /^(\d+)$/.exec(scope);
  if (found) return t("flows.scope.company", { company: found[1] });
  found = /^(\d+):(\d+)$/.exec(scope);
  if (found) return t("flows.scope.pair", { company: found[1], segment: found[2] });
  found = /^list:(\d+):(\d+):(.+)$/.exec(scope);
  if (found) return t("flows.scope.list", { company: found[1], segment: found[2], market: found[3] });
  return label("flows.scope.", scope);
}

function watermark(flow) {
  const marks = flow.watermarks.filter((w) => w.last_changed_at);
  if (!marks.length) return "—";
  return h("div", { "data-testid": `watermarks-${flow.name}` }, marks.map((w) => h("div", {},
    w.scope ? `${scopeText(w.scope)}: ` : "", fmtDate(w.last_changed_at))));
}

const RUN_TONES = { ok: "success", failed: "critical", retrying: "caution", bad_cron: "critical", enqueued: "info" };
const RUN_HINTS = { failed: "flows.run_failed_hint", retrying: "flows.run_retrying_hint", bad_cron: "flows.bad_cron_hint" };

/** What became of the schedule's last run: its status, when it ended, its error and what to do;
 * a run that ended ok whose report found drift (the reconciliation) says so, not plain "ok". */
function lastRun(ctx, schedule) {
  if (!schedule || !schedule.last_status) return "—";
  const status = schedule.last_status;
  const troubled = status === "failed" || status === "retrying";
  const drift = status === "ok" && schedule.last_findings ? schedule.last_findings : null;
  return h("div", { "data-testid": "last-run", "data-status": drift ? "drift" : status },
    h("s-badge", { tone: drift ? "caution" : RUN_TONES[status] || "neutral" }, label("run.", drift ? "drift" : status)),
    schedule.last_ended_at && (troubled || status === "ok")
      ? h("div", { class: "muted" }, t("flows.run_ended_at", { when: fmtDate(schedule.last_ended_at) })) : null,
    troubled && schedule.last_error ? h("div", { class: "mono", "data-testid": "last-error" }, schedule.last_error) : null,
    drift ? h("div", { "data-testid": "last-findings" }, driftLine(drift)) : null,
    RUN_HINTS[status] ? h("div", { class: "muted", "data-testid": "run-hint" }, roleText(ctx, RUN_HINTS[status])) : null);
}

function progress(ctx, flow) {
  if (flow.waiting) return h("s-badge", { tone: "neutral" }, t("flows.waiting_catalog"));
  if (!flow.running) return lastRun(ctx, flow.schedule);
  const p = flow.progress || {};
  if (p.total) {
    return h("span", {}, h("progress", { max: p.total, value: p.done || 0, "aria-label": t("flows.progress_of", { flow: flow.label }) }),
      ` ${fmtNumber(p.done || 0)}/${fmtNumber(p.total)}`);
  }
  return h("s-badge", { tone: "info" }, t("flows.running"));
}

/** Flows whose messages are filed under other flows: the full catalog sweep runs the products and
 * SKUs flows' initial load, the full price and stock sweeps a whole pass of the prices and stock
 * flows, so their rows link to those instead of counting (always 0) their own. */
const MESSAGES_UNDER = { catalog_full: ["products", "skus"], prices_full: ["prices"], stock_full: ["stock"] };

/** A flow's counts, each linking to the Messages list of exactly the units it counts: open ones by
 * their status, interrupted ones by the `stuck` filter (the API's test for them, not every pending
 * unit: orders waiting for their payment are pending too), done ones changed since the time the
 * done count counts from (`since`: the API's finished_since). */
function counts(flow, since) {
  const under = MESSAGES_UNDER[flow.name];
  if (under) {
    const links = under.map((name) => h("s-link", { href: href("messages", { flow: name }) }, label("flow.", name)));
    return h("span", { "data-testid": `counts-${flow.name}`, class: "muted" }, t("flows.messages_under"), " ",
      ...links.flatMap((link, i) => (i ? [" · ", link] : [link])));
  }
  const c = flow.counts_24h;
  const link = (count, n, filters) => h("s-link", { href: href("messages", { flow: flow.name, ...filters }),
    class: `count-${count}`, "data-count": count }, fmtNumber(n));
  return h("span", { "data-testid": `counts-${flow.name}` },
    link("done", c.done, { status: "done", updated_since: since }), " / ",
    link("failed", c.failed, { status: "failed" }), " / ", link("parked", c.parked, { status: "parked" }), " / ",
    link("retrying", c.retrying, { status: "retrying" }), " / ", link("stuck", c.stuck || 0, { stuck: "true" }));
}

/** "off" when the schedule is switched off (nothing runs by it; "run now" still does). */
function offBadge(schedule) {
  return schedule.enabled ? null : h("s-badge", { tone: "caution", "data-testid": "schedule-off" }, t("flows.schedule_off"));
}

/** The next run the cron names; a switched-on schedule whose due run was not started (the API's
 * `overdue`: the scheduler stopped, or its previous run still queued) is marked so first. */
function nextRun(schedule) {
  if (!schedule) return "—";
  if (!schedule.overdue) return fmtDate(schedule.next_run_at);
  return h("div", { "data-testid": "overdue" },
    h("s-badge", { tone: "critical" }, t("flows.overdue")), h("div", { class: "muted" }, t("flows.overdue_hint")),
    h("div", {}, fmtDate(schedule.next_run_at)));
}

/** A flow's schedule cell. `drafts` (flow name -> {value, error}), kept by the page across its
 * redraws: the table is drawn again on every change of any flow and every FULL_MS, and an expression
 * being typed, or refused on its field, must not go back to the saved one under the person's hands. */
function scheduleCell(ctx, flow, reload, drafts) {
  if (flow.webhook_only || !flow.schedule) return h("s-text", { color: "subdued" }, t("flows.webhook_only"));
  const schedule = flow.schedule;
  if (!ctx.can("configure")) return h("div", {}, h("span", { class: "mono" }, schedule.cron || "—"), " ", offBadge(schedule));
  const draft = drafts.get(flow.name);
  const field = h("s-text-field", { label: t("flows.cron_of", { flow: flow.label }),
    ".value": draft ? draft.value : schedule.cron || "",
    labelAccessibilityVisibility: "exclusive", name: "cron", class: "cron-field",
    placeholder: "*/15 * * * *" });
  if (draft && draft.error) field.setAttribute("error", draft.error);
  field.addEventListener("input", () => drafts.set(flow.name, { value: field.value, error: null }));
  const cell = h("div", {});
  // Switching on or off sends the switch alone: the server keeps the saved expression, whatever this
  // page loaded (another admin may have changed it since) or the field holds unsaved.
  const put = async (body, done) => {
    const sendsCron = !("enabled" in body && schedule.cron);
    try {
      await api(`/api/flows/${flow.name}/schedule`, { method: "PUT", form: cell,
        body: sendsCron ? { cron: field.value.trim(), ...body } : body });
    } catch (error) {  // refused on the field: kept with its error through the redraws
      if (sendsCron) drafts.set(flow.name, { value: field.value, error: field.getAttribute("error") });
      throw error;
    }
    if (sendsCron) drafts.delete(flow.name);
    toast(t(done));
    await reload();
  };
  const toggle = schedule.enabled
    ? h("s-button", { variant: "tertiary", accessibilityLabel: t("flows.switch_off_of", { flow: flow.label }),
      onclick: () => put({ enabled: false }, "flows.switched_off") }, t("flows.switch_off"))
    : h("s-button", { variant: "tertiary", accessibilityLabel: t("flows.switch_on_of", { flow: flow.label }),
      onclick: () => put({ enabled: true }, "flows.switched_on") }, t("flows.switch_on"));
  return replace(cell, offBadge(schedule), field,
    h("s-button", { variant: "tertiary", onclick: () => put({}, "common.saved") }, t("flows.save_schedule")), toggle);
}

/** The flow's name, its direction and, for a flow the name does not explain, a line on what it does. */
function flowName(flow) {
  const help = `flows.help.${flow.name}`;
  return h("div", {}, h("s-text", { type: "strong" }, flow.label), h("div", { class: "muted" }, label("direction.", flow.direction)),
    has(help) ? h("div", { class: "muted flow-help", "data-testid": `flow-help-${flow.name}` }, t(help)) : null);
}

function rows(ctx, flows, since, reload, drafts) {
  return table([t("flows.flow"), t("flows.schedule"), t("flows.last_run"), t("flows.next_run"), t("flows.watermark"),
    t("flows.counts_open"), t("flows.status"), ""],
  flows.map((f) => [
    flowName(f),
    scheduleCell(ctx, f, reload, drafts),
    fmtDate(f.schedule && f.schedule.last_run_at), nextRun(f.schedule),
    watermark(f), counts(f, since), progress(ctx, f),
    ctx.can("operate") && !f.webhook_only ? busyButton({ accessibilityLabel: t("flows.run_now_of", { flow: f.label }),
      disabled: f.running }, t("flows.run_now"), async () => {
      const job = await api(`/api/flows/${f.name}/run`, { method: "POST" });
      toast(job.enqueued ? t("flows.enqueued") : t("flows.already_waiting"));
    }) : "",
  ]), { "data-testid": "flows-table" }, { "data-testid": "flows-table-scroll" });
}

function charts(metrics) {
  // The store's hours, as every date of the page (fmtDate), not the browser's.
  const hour = new Intl.DateTimeFormat(document.documentElement.lang, { hour: "2-digit", minute: "2-digit", timeZone: timeZone() });
  const bars = metrics.per_hour.map((p) => ({ label: hour.format(new Date(p.hour)), total: p.total, failed: p.failed }));
  const total = bars.reduce((n, b) => n + b.total, 0);
  return h("div", { class: "charts" },
    h("div", {}, h("s-heading", {}, t("flows.chart_per_hour", { hours: metrics.hours })),
      hourChart(bars, t("flows.chart_per_hour_summary", { total: fmtNumber(total) }), (b) => b.label),
      h("div", { class: "muted", "data-testid": "messages-total" }, t("flows.chart_total", { total: fmtNumber(total) }))));
}

/** Open failures per flow (failed + parked + retrying + interrupted, however old): the rows' own counts.
 * A Retry whose job was lost is both retrying and interrupted (stuck_retrying): counted once. */
function openFailures(flows) {
  const open = flows.map((f) => { const c = f.counts_24h;
    return { label: f.label,
      value: c.failed + c.parked + c.retrying + (c.stuck || 0) - (c.stuck_retrying || 0) }; })
    .filter((row) => row.value);
  return h("div", { "data-testid": "open-failures" }, h("s-heading", {}, t("flows.chart_open_failures")),
    open.length ? barList(open, t("flows.chart_open_failures")) : h("s-text", { color: "subdued" }, t("flows.no_open_failures")));
}

/** "Stock run" for a flow's run job (jobs.<module>.run), "Shopify webhook customers/redact" for a
 * webhook inbox row's, else the job's function. */
function jobName(job) {
  if (job.topic) return t("flows.failed_webhook_of", { topic: job.topic });
  const [, module, name] = String(job.func || "").split(".");
  return name === "run" && module ? t("flows.failed_run_of", { flow: label("flow.", module) }) : job.func;
}

/** Why a job failed, in the page's language (`reason`: its failure's words, or what a bug's failure
 * means), RQ's raw exception line kept below it as the technical detail. */
function failedWhy(job) {
  const raw = job.error && job.error !== job.reason ? h("details", { "data-testid": "failed-job-technical" },
    h("summary", {}, t("detail.technical")), h("span", { class: "mono" }, job.error)) : null;
  return h("div", {}, h("div", { "data-testid": "failed-job-reason" }, job.reason || job.error || "—"), raw);
}

/** Runs and jobs that failed for good (RQ's failed-job registry, and failed webhook inbox rows):
 * what failed, why, requeue. */
function failedJobs(ctx, answer, reload) {
  if (answer instanceof Error) return failureBanner(answer, t("flows.failed_jobs_unreadable"), "warning");
  // more: the shop's failures lie among more of other shops' than one listing reads (api_jobs.SCAN)
  const more = answer.more ? h("s-text", { color: "subdued", "data-testid": "failed-jobs-more" }, t("flows.failed_jobs_more")) : null;
  if (!answer.jobs.length) return more || h("s-text", { color: "subdued", "data-testid": "failed-jobs-none" }, t("flows.failed_jobs_none"));
  return h("div", {}, h("s-paragraph", { "data-testid": "failed-jobs-intro" }, roleText(ctx, "flows.failed_jobs_intro")), more,
    table([t("flows.failed_job"), t("flows.failed_job_error"), t("flows.failed_job_ended"), ""],
      answer.jobs.map((job) => [
        h("div", {}, jobName(job), jobName(job) !== job.func ? h("div", { class: "muted mono" }, job.func) : null),
        failedWhy(job), fmtDate(job.ended_at),
        ctx.can("operate") ? failedAction(job, reload) : "",
      ]), { "data-testid": "failed-jobs" }));
}

/** Requeue a failed job; dismiss a webhook whose body could not be read (`unreadable`: a retry
 * would read the same, api_jobs). */
function failedAction(job, reload) {
  const name = { job: jobName(job) };
  const [verb, label, of, done] = job.unreadable
    ? ["dismiss", t("flows.dismiss"), t("flows.dismiss_of", name), t("flows.dismissed")]
    : ["requeue", t("flows.requeue"), t("flows.requeue_of", name), t("flows.requeued")];
  return busyButton({ accessibilityLabel: of }, label, async () => {
    await api(`/api/jobs/failed/${encodeURIComponent(job.id)}/${verb}`, { method: "POST" });
    toast(done);
    await reload();
  });
}

/** Shopify's daily limit on new variants holding new products (the API's variant_quota): how many
 * wait, since when, and when the app tries again; nothing when none is held. */
export function quotaBanner(quota) {
  if (!quota) return null;
  const next = quota.held ? t("flows.variant_quota_next", { until: fmtDate(quota.until) }) : t("flows.variant_quota_next_run");
  return h("s-banner", { tone: "warning", heading: t("flows.variant_quota_heading"), "data-testid": "variant-quota" },
    h("s-paragraph", {}, t("flows.variant_quota_body", { waiting: fmtNumber(quota.waiting), at: fmtDate(quota.at) }), " ", next),
    h("s-link", { href: href("messages", { flow: "products", status: "retrying" }) }, t("flows.variant_quota_link")));
}

/** The scheduler stopped ticking (the API's scheduler.stopped): no flow runs by itself, and the alert
 * e-mails, started by the same tick, cannot tell; whoever runs the app starts it again. Nothing
 * otherwise, nor before a first tick (`scheduler` null). */
export function schedulerBanner(scheduler) {
  if (!scheduler || !scheduler.stopped) return null;
  return h("s-banner", { tone: "critical", heading: t("flows.scheduler_stopped_heading"), "data-testid": "scheduler-stopped" },
    h("s-paragraph", {}, t("flows.scheduler_stopped_body", { at: fmtDate(scheduler.last_tick_at) })),
    h("s-paragraph", {}, t("flows.scheduler_stopped_fix")));
}

/** The team's last alert e-mail the mail server did not take (the API's alert_failed): said where
 * the team looks, since no e-mail tells of it; its items go with the next alert. Nothing otherwise. */
export function alertBanner(failed) {
  if (!failed) return null;
  return h("s-banner", { tone: "warning", heading: t("flows.alert_failed_heading"), "data-testid": "alert-failed" },
    h("s-paragraph", {}, t("flows.alert_failed_body", { at: fmtDate(failed.at), count: fmtNumber(failed.items) })),
    technicalDetail(failed.error),
    h("s-link", { href: href("setup") }, t("flows.alert_failed_link")));
}

/** The flow's name from the page's catalogue (the API's label is a fallback). */
function named(flows) {
  return flows.map((f) => ({ ...f, label: label("flow.", f.name) || f.label }));
}

export async function render(ctx) {
  const drafts = new Map();  // schedules typed, not saved yet (scheduleCell)
  const tableBox = h("div", {});
  const quotaBox = h("div", {});
  const attentionBox = h("div", {});
  const chartBox = h("div", {});
  const updated = h("s-text", { color: "subdued", "data-testid": "updated-at" });
  let cursor = null;
  let running = [];
  let timer = null;
  let stopped = false;
  let readAt = 0;
  let failedMark = null;  // RQ's failed registries' mark when the failed jobs were last read

  const reload = async () => {
    const started = Date.now();
    const [answer, metrics, failed] = await Promise.all([api("/api/flows", { quiet: true }),
      api("/api/flows/metrics", { quiet: true, query: { hours: 24 } }),
      api("/api/jobs/failed", { quiet: true }).catch((error) => error)]);
    readAt = started;
    failedMark = failed instanceof Error ? null : failed.failed_mark ?? null;
    const flows = named(answer.flows);
    const next = answer.cursor;
    cursor = next;
    running = flows.filter((f) => f.running).map((f) => f.name);
    replace(quotaBox, schedulerBanner(answer.scheduler), quotaBanner(answer.variant_quota), alertBanner(answer.alert_failed));
    replace(tableBox, rows(ctx, flows, answer.finished_since, reload, drafts));
    replace(attentionBox, openFailures(flows),
      h("s-heading", {}, t("flows.failed_jobs_heading")), failedJobs(ctx, failed, reload));
    replace(chartBox, charts(metrics));
    replace(updated, t("flows.updated_at", { when: fmtDate(new Date().toISOString()) }));
  };
  const tick = async () => {
    if (stopped) return;
    try {
      // failed: a run's failure reaches its row before RQ's failed registry; the list follows that
      const query = { since: cursor, running: running.join(","), failed: failedMark ?? "" };
      const change = await api("/api/flows/changes", { quiet: true, query });
      if (change.changed || Date.now() - readAt >= FULL_MS) await reload();
    } catch (error) {
      replace(updated, t("flows.poll_failed", { message: failureParts(error).text }));
    }
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  };
  try {
    await reload();
  } catch (error) {
    replace(tableBox, failureBanner(error));
  }
  timer = setTimeout(tick, POLL_MS);
  const element = h("s-page", { heading: t("flows.heading") },
    h("s-paragraph", {}, t("flows.intro"), " ", updated), quotaBox,
    h("s-section", { heading: t("flows.table_heading") }, tableBox),
    h("s-section", { heading: t("flows.attention_heading") }, attentionBox),
    h("s-section", { heading: t("flows.charts_heading") }, chartBox));
  return { element, dispose: () => { stopped = true; clearTimeout(timer); } };
}
