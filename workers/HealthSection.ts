// The status page's account of the sync itself: a red banner while ticks fail, the events waiting
// for the next tick, the quarantine with its Retry button, and the day's ticks as a chart.
import { hoursOf } from "../core/5-tick/TickOutcome.js"
import { renderTickChart } from "./TickChart.js"
import type { TickHealth } from "./TickStatus.js"

const esc = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`
const age = (seconds: number) => (seconds < 90 ? `${seconds} s` : seconds < 5400 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 3600)} h`)

export const renderHealth = (health: TickHealth, now: number, callsPerHourBudget: number, tokenField = ""): string => {
  const parts: Array<string> = []
  const last = health.lastTick
  if (health.failedTicksInARow > 0 && last !== null) {
    parts.push(`<div class="banner" role="alert"><b>The last ${plural(health.failedTicksInARow, "tick")} failed</b>${
      last.error === undefined ? "" : `: ${esc(last.error.message)}<div>${esc(last.error.hint)}</div>`
    }</div>`)
  } else if (last !== null && last.outcome === "partial") {
    parts.push(`<div class="error">The last tick synced in part: ${plural(last.failedAudiences, "audience")} failed (see below).</div>`)
  }
  if (health.inbox !== null && health.inbox.entries > 0) {
    const oldest = health.inbox.oldestAgeSeconds === null ? "" : `, the oldest ${age(health.inbox.oldestAgeSeconds)} old`
    parts.push(`<p class="waiting">Waiting for the next tick: <b>${plural(health.inbox.changes, "change")}</b> in ${plural(health.inbox.entries, "batch")}${oldest}.</p>`)
  }
  const q = health.quarantine
  if (q !== null && q.entries > 0) {
    const reasons = q.reasons.map((r) => `<li><b>${esc(r.audience ?? "an unreadable inbox entry")}</b>: ${esc(r.tag)} — ${esc(r.message)}</li>`).join("")
    parts.push(`<div class="error"><b>Quarantine: ${plural(q.count, "change")}</b> (${plural(q.entries, "part")}${
      q.oldest === undefined ? "" : `, the oldest ${age(Math.round((now - q.oldest) / 1000))} old`
    }) could not be folded and wait here, kept.<ul>${reasons}</ul><form method="post" action="/admin/quarantine/retry">${tokenField}<button>Retry</button> <span class="small">after fixing the cause: puts them back for the next tick</span></form></div>`)
  }
  const lastLine = last === null
    ? "No tick has run yet."
    : `Last tick ${age(Math.max(0, Math.round((now - last.at) / 1000)))} ago: ${esc(last.outcome)}, ${plural(last.calls, "call")}, ${plural(last.changesFolded, "change")} folded, ${plural(last.audiences, "audience")} synced${
      last.storage === undefined ? "" : `; storage: ${plural(last.storage.reads, "read")}, ${plural(last.storage.writes, "write")}, ${plural(last.storage.deletes, "delete")}, ${plural(last.storage.lists, "list")}`
    }.`
  parts.push(`<p class="small">${lastLine}</p>${renderTickChart(hoursOf(health.history, now), callsPerHourBudget)}`)
  return parts.join("\n")
}

/** Audiences with events waiting that have no record yet: listed so none looks forgotten. */
export const renderWaitingAudiences = (health: TickHealth, known: ReadonlySet<string>): string =>
  (health.inbox?.audiences ?? [])
    .filter((a) => !known.has(a.audience))
    .map((a) => `<section><h2>${esc(a.audience)} <span class="small">waiting</span></h2><p>${plural(a.changes, "change")} wait for the next tick.</p></section>`)
    .join("\n")

