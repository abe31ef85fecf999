// What a tick did, as one small record kept for a day: the status page's banner, its history
// chart and `GET /admin/status` read these, so the page never says "ok" for a tick that failed.
import type { StorageCounts } from "./CountingStore.js"
import type { TickSummary } from "./Tick.js"

/**
 * - ok: every audience with work moved forward;
 * - partial: some audiences failed (their own errors say why), the others synced;
 * - failed: the tick could not run, or every audience it tried failed.
 */
export type TickOutcomeKind = "ok" | "partial" | "failed"

export interface TickRecord {
  readonly at: number
  readonly outcome: TickOutcomeKind
  readonly calls: number
  readonly changesFolded: number
  readonly audiences: number
  readonly failedAudiences: number
  /** What the tick asked of the state store (absent from records kept before it was counted). */
  readonly storage?: StorageCounts
  readonly error?: { readonly tag: string; readonly code?: string; readonly message: string }
}

/** How long records are kept, and the most kept (one a minute, with room for syncs on demand). */
export const tickHistoryMillis = 24 * 60 * 60_000
export const maxTickRecords = 3_000

export const tickRecordOf = (summary: TickSummary, at: number): TickRecord => {
  const failures = [
    ...summary.foldFailures.map((f) => ({ tag: f.tag, code: f.quarantined ? "quarantined" : "fold", message: `${f.audience ?? "an inbox entry"}: ${f.message}` })),
    ...summary.audiences.flatMap((a) => (a.error === undefined ? [] : [{ tag: a.error.tag, code: a.error.code, message: `${a.audience}: ${a.error.message}` }]))
  ]
  const tried = summary.audiences.length + summary.foldFailures.length
  const outcome: TickOutcomeKind = failures.length === 0 ? "ok" : failures.length >= tried ? "failed" : "partial"
  return {
    at,
    outcome,
    calls: summary.calls,
    changesFolded: summary.changesFolded,
    audiences: summary.audiences.length,
    failedAudiences: failures.length,
    storage: summary.storage,
    ...(failures[0] === undefined ? {} : { error: failures[0] })
  }
}

export const failedTickRecord = (at: number, error: { readonly tag: string; readonly message: string }): TickRecord => ({
  at,
  outcome: "failed",
  calls: 0,
  changesFolded: 0,
  audiences: 0,
  failedAudiences: 0,
  error
})

/** Ticks that failed since the last one that did not, newest first. */
export const failedTicksInARow = (records: ReadonlyArray<TickRecord>): number => {
  let n = 0
  for (let i = records.length - 1; i >= 0 && records[i]!.outcome === "failed"; i--) n++
  return n
}

export interface HourOfTicks {
  /** Start of the hour (epoch ms). */
  readonly hour: number
  readonly calls: number
  readonly ticks: number
  readonly failed: number
}

/** The last 24 hours by hour, oldest first, hours without ticks included. */
export const hoursOf = (records: ReadonlyArray<TickRecord>, now: number): ReadonlyArray<HourOfTicks> => {
  const hour = 3_600_000
  const last = Math.floor(now / hour) * hour
  const hours = Array.from({ length: 24 }, (_, i) => ({ hour: last - (23 - i) * hour, calls: 0, ticks: 0, failed: 0 }))
  for (const r of records) {
    const slot = hours[23 - Math.floor((last - Math.floor(r.at / hour) * hour) / hour)]
    if (slot === undefined) continue
    slot.calls += r.calls
    slot.ticks++
    if (r.outcome === "failed") slot.failed++
  }
  return hours
}
