// GET / — the status page for the people who run the sync: every audience with its list, counts,
// pending changes, the next plan and its duration under the budget, the day's calls against the
// quota, and the last error with what to do about it. Server-rendered, no script, phone-friendly;
// its forms carry a token so that no other page can post them (workers/CrossSite.ts).
// A browser opens it with Basic auth (any user name, ADMIN_TOKEN as password).
import type { AudienceView } from "../core/5-tick/AudienceStatus.js"
import type { BudgetStatus } from "../core/ports/RateLimiter.js"
import { formTokenField } from "./CrossSite.js"
import { renderHealth, renderWaitingAudiences } from "./HealthSection.js"
import { hintFor } from "./Hints.js"
import type { LatencyView } from "./Latency.js"
import type { TickHealth } from "./TickStatus.js"

export interface StatusPageData {
  readonly audiences: ReadonlyArray<AudienceView & {
    readonly nextPlan?: { readonly calls: number; readonly minDurationSeconds: number; readonly steps: ReadonlyArray<string> }
    /** Calls a drift repair (reading the list back) would make. */
    readonly reconcileCalls?: number
  }>
  readonly budget?: BudgetStatus
  readonly latency?: LatencyView
  readonly configuration: ReadonlyArray<string>
  readonly folder?: string
  /** Marketo's web app, when known (MARKETO_INSTANCE_URL), to link each list. */
  readonly instanceUrl?: string
  /** Carried by every form, so a post the page did not make is refused (workers/CrossSite.ts). */
  readonly formToken?: string
  /** Audiences removed at some time, with the older events ignored since (workers/AudienceRegistry.ts). */
  readonly removed?: ReadonlyArray<{ readonly key: string; readonly removedAt: number; readonly ignored: number }>
  readonly now: number
  /** The sync's own health: last tick, failures in a row, inbox, quarantine, the day's ticks. */
  readonly health?: TickHealth
}

/** The page's only style: its hash is the only style the page's Content-Security-Policy allows. */
export const pageStyle = `
body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:60rem;color:#222}
section{border:1px solid #ddd;border-radius:8px;padding:.5rem 1rem;margin:1rem 0}
h2{font-size:1.1rem;margin:.3rem 0}.small{font-size:.8rem;color:#666;font-weight:normal}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}dt{color:#555}dd{margin:0}
button{font:inherit;padding:.3rem .7rem;margin:.3rem 0}.banner{background:#c0392b;color:#fff;border-radius:6px;padding:.6rem;margin:.5rem 0}.chart{max-width:480px}.error{background:#fff1f0;border:1px solid #f5c2c0;border-radius:6px;padding:.5rem;margin:.5rem 0}.notice{background:#fff8e1;border:1px solid #f0d48a;border-radius:6px;padding:.5rem;margin:.5rem 0}
`

const esc = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The last check of the list in Marketo (reconcile), and one in progress. */
const reconciled = (a: AudienceView, now: number): string => {
  const r = a.lastReconcile
  const f = a.reconcileFailing
  const running = a.reconciling !== true
    ? ""
    : f === undefined
    ? " <b>checking now</b> (the ticks carry it on)"
    : ` <span class="error">checking now, but its last step failed ${f.times === 1 ? "once" : `${f.times} times in a row`} (${ago(now, f.at)}): ${esc(f.tag)}: ${esc(f.message)}; it is tried again each tick</span>`
  if (r === undefined) return running === "" ? "" : `<dt>list check</dt><dd>${running}</dd>`
  return `<dt>list check</dt><dd>${ago(now, r.at)}: ${r.membersRead} members read in ${r.calls} call${r.calls === 1 ? "" : "s"}; ${r.missing} missing, ${r.unexpected} unexpected, ${r.strays} without email${running}</dd>`
}

const ago = (now: number, at: number) => {
  const s = Math.max(0, Math.round((now - at) / 1000))
  return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`
}

const duration = (seconds: number) => (seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`)

const removal = (stone: { readonly removedAt: number; readonly ignored: number }) =>
  `${esc(new Date(stone.removedAt).toISOString())} · ${stone.ignored} older event${stone.ignored === 1 ? "" : "s"} ignored since`

/** Rows bulk imports refused, each sent again one by one (what Marketo still refuses is counted above). */
const importRows = (a: { readonly importRowsFailed?: number }) =>
  (a.importRowsFailed ?? 0) === 0 ? "" : `<div class="small">${a.importRowsFailed} import row${a.importRowsFailed === 1 ? "" : "s"} refused, each sent again by upsert</div>`

/** The list was deleted in Marketo and made again. */
const listNotice = (a: { readonly listReplaced?: { readonly previousListId: number; readonly at: number } }, now: number) =>
  a.listReplaced === undefined
    ? ""
    : `<div class="notice">List id ${a.listReplaced.previousListId} was deleted in Marketo ${ago(now, a.listReplaced.at)}: a new list of the same name was created in the folder and every member added back.</div>`

export const renderStatusPage = (data: StatusPageData): string => {
  const budget = data.budget
  const tombstones = new Map((data.removed ?? []).map((t) => [t.key, t]))
  const tokenField = data.formToken === undefined ? "" : `<input type="hidden" name="${formTokenField}" value="${esc(data.formToken)}">`
  const waitingKeys = new Set((data.health?.inbox?.audiences ?? []).map((a) => a.audience as string))
  const rows = data.audiences.map((a) => {
    const list = a.listId === undefined
      ? "<em>not created yet</em>"
      : data.instanceUrl === undefined
      ? `id ${a.listId}`
      : `<a href="${esc(`${data.instanceUrl.replace(/\/+$/, "")}/#ST${a.listId}A1`)}">id ${a.listId}</a>`
    const progress = a.progress === undefined ? "" : `<div>running: step ${a.progress.stepsDone} of ${a.progress.stepsTotal}</div>`
    const next = a.nextPlan === undefined || a.nextPlan.calls === 0
      ? "up to date"
      : `${a.nextPlan.calls} calls, at least ${duration(a.nextPlan.minDurationSeconds)}<div class="small">${esc(a.nextPlan.steps.join(" → "))}</div>`
    const last = a.lastSync === undefined ? "never" : `${esc(a.lastSync.outcome)}, ${ago(data.now, a.lastSync.at)} (${a.lastSync.calls} calls)`
    const error = a.lastError === undefined
      ? ""
      : `<div class="error"><b>${esc(a.lastError.code)}</b> ${esc(a.lastError.message)}<div>${esc(hintFor(a.lastError))}</div></div>`
    const waitingNote = waitingKeys.has(a.key) ? " · events waiting for the next tick" : ""
    return `<section><h2>${esc(a.listName)} <span class="small">${esc(a.key)}${a.audienceClass === "journey_step" ? " · journey step (only grows)" : ""}${waitingNote}</span></h2>
<dl><dt>list</dt><dd>${list}</dd><dt>emails wanted</dt><dd>${a.desired}</dd><dt>on the list</dt><dd>${a.synced}</dd>
<dt>members without email</dt><dd>${a.withoutEmail}</dd><dt>refused by Marketo</dt><dd>${a.refused}${importRows(a)}</dd>
<dt>pending</dt><dd>+${a.pending.add} / −${a.pending.remove}${a.pendingImports.length > 0 ? ` (${a.pendingImports.length} import running)` : ""}</dd>
<dt>next plan</dt><dd>${next}${progress}</dd><dt>last sync</dt><dd>${last}</dd>${reconciled(a, data.now)}${
      tombstones.has(a.key) ? `<dt>removed</dt><dd>${removal(tombstones.get(a.key)!)}</dd>` : ""
    }</dl>${error}${listNotice(a, data.now)}${
      a.listId === undefined ? "" : `<form method="post" action="/admin/audiences/${esc(encodeURIComponent(a.key))}/reconcile">${tokenField}<button>Check the list in Marketo${a.reconcileCalls === undefined ? "" : ` (${a.reconcileCalls} call${a.reconcileCalls === 1 ? "" : "s"})`}</button> <span class="small">reads the members back and repairs what people changed by hand</span></form>`
    }</section>`
  }).join("\n")
  const quota = budget === undefined
    ? ""
    : `<p>Marketo calls today: <b>${budget.usedToday}</b> of ${budget.dailyQuota - budget.dailyReserve} (quota ${budget.dailyQuota}, ${budget.dailyReserve} kept for other integrations) · budget ${budget.callsPerWindow} calls per ${budget.windowMillis / 1000} s, ${budget.maxConcurrency} at once${budget.pausedUntil > data.now ? ` · <b>paused</b> until ${esc(new Date(budget.pausedUntil).toISOString())}` : ""}</p>`
  const latency = data.latency === undefined
    ? ""
    : `<p>Changes reach their lists within <b>${data.latency.honouredMinutes} min</b> (target ${data.latency.targetMinutes} min${
      data.latency.honouredMinutes > data.latency.targetMinutes ? ": the day's remaining quota cannot honour it now" : ""
    })${data.latency.deferred > 0 ? ` · ${data.latency.deferred} audience${data.latency.deferred === 1 ? "" : "s"} waiting for quota` : ""}</p>`
  const shown = new Set<string>(data.audiences.map((a) => a.key))
  const gone = [...tombstones.values()].filter((t) => !shown.has(t.key))
  const removedSection = gone.length === 0
    ? ""
    : `<section><h2>Removed audiences <span class="small">events older than the removal are ignored; newer ones start the audience afresh</span></h2><dl>${
      gone.map((t) => `<dt>${esc(t.key)}</dt><dd>${removal(t)}</dd>`).join("")
    }</dl></section>`
  const health = data.health === undefined
    ? ""
    : renderHealth(data.health, data.now, budget === undefined ? 0 : Math.round((budget.dailyQuota - budget.dailyReserve) / 24), tokenField)
  const waiting = data.health === undefined ? "" : renderWaitingAudiences(data.health, shown)
  const config = data.configuration.length === 0
    ? ""
    : `<div class="error"><b>Configuration</b><ul>${data.configuration.map((p) => `<li>${esc(p)}</li>`).join("")}</ul></div>`
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Marketo static lists</title><style>${pageStyle}</style></head><body><h1>Marketo static lists</h1>
<p class="small">Folder “${esc(data.folder ?? "?")}” · ${data.audiences.length} audiences · ${esc(new Date(data.now).toISOString())}</p>
${config}${health}${quota}${latency}${rows}${waiting}${
    rows === "" && waiting === "" ? "<p>No audience has sent events yet.</p>" : ""
  }${removedSection}
</body></html>`
}
