// How long this instance's bulk imports take, learned from the imports the sync polls. Marketo runs
// imports from one queue per instance, shared with every integration, so the time is the
// instance's and changes with its load: it is learned, never assumed, from a prior of 10 minutes
// (Adobe: use bulk import "when latency of tens of minutes is acceptable").
//
// Per size class (rows, by powers of two) it keeps what the polls proved: the longest time an
// import was still running when polled (`low`) and the shortest time one was found ended
// (`high`). The truth lies between. The first poll of an import is made when it is expected to
// have ended: at `high` once low and high are within a tick, else halfway between them, or a
// quarter below `high` while no poll has seen one running (so an estimate that was too long comes
// down); sooner while adds of its list wait behind it (importPollAfterMillis). An observation that
// contradicts the class (the queue got slower or faster) replaces it.
import { Schema } from "effect"

export const LatencyClass = Schema.Struct({
  low: Schema.optional(Schema.Number),
  high: Schema.optional(Schema.Number),
  at: Schema.Number
})
export type LatencyClass = typeof LatencyClass.Type

export const ImportLatency = Schema.Struct({ classes: Schema.Record({ key: Schema.String, value: LatencyClass }) })
export type ImportLatency = typeof ImportLatency.Type
export const ImportLatencyJson = Schema.parseJson(ImportLatency)

export const noImportLatency: ImportLatency = { classes: {} }

/** What is assumed before any import of the instance was polled. */
export const priorImportMillis = 10 * 60_000

const classOf = (rows: number) => String(Math.floor(Math.log2(Math.max(1, rows))))

/** What a poll saw: the import, `elapsedMillis` after it was sent, had ended (`ended`) or was still running. */
export const observeImport = (latency: ImportLatency, rows: number, elapsedMillis: number, ended: boolean, at: number): ImportLatency => {
  const key = classOf(rows)
  const before = latency.classes[key]
  const elapsed = Math.max(0, Math.round(elapsedMillis))
  let next: LatencyClass = ended
    ? { ...before, high: Math.min(before?.high ?? Number.POSITIVE_INFINITY, elapsed), at }
    : { ...before, low: Math.max(before?.low ?? 0, elapsed), at }
  // Still running later than one was seen ended, or ended sooner than one was seen running: the
  // instance's queue changed; keep what was just seen.
  if (next.low !== undefined && next.high !== undefined && next.low >= next.high) next = ended ? { high: elapsed, at } : { low: elapsed, at }
  return { classes: { ...latency.classes, [key]: next } }
}

/** The class itself, or the nearest one learned (by size), if any. */
const nearest = (latency: ImportLatency, rows: number): LatencyClass | undefined => {
  const want = Number(classOf(rows))
  const keys = Object.keys(latency.classes).map(Number).sort((a, b) => Math.abs(a - want) - Math.abs(b - want) || b - a)
  return keys[0] === undefined ? undefined : latency.classes[String(keys[0])]
}

/** A time by which an import of `rows` has ended, as far as the polls show (the prior when nothing is known). */
export const importUpperMillis = (latency: ImportLatency, rows: number): number => {
  const c = nearest(latency, rows)
  if (c?.high !== undefined) return c.high
  if (c?.low !== undefined) return 2 * c.low
  return priorImportMillis
}

/**
 * When, after sending, the next poll of an import of `rows` should be made. With `waiting` (adds
 * of the same list wait behind it: Marketo takes one import per list at a time, 1019), finding out
 * soon is worth a few polls: with nothing learned the first poll comes a tick after sending, not
 * at the prior, and an estimate proven only from above is halved rather than cut by a quarter, so
 * a million-member load's ten imports do not each wait out the estimate of the one before.
 */
export const importPollAfterMillis = (latency: ImportLatency, rows: number, tickMillis: number, waiting = false): number => {
  const c = latency.classes[classOf(rows)]
  if (c === undefined) return waiting && Object.keys(latency.classes).length === 0 ? tickMillis : importUpperMillis(latency, rows)
  if (c.high !== undefined && c.low !== undefined) return c.high - c.low <= tickMillis ? c.high : (c.low + c.high) / 2
  if (c.high !== undefined) return waiting ? Math.max(tickMillis, c.high / 2) : Math.max(0.75 * c.high, c.high - 5 * tickMillis)
  return Math.max(2 * (c.low ?? 0), (c.low ?? 0) + tickMillis)
}
