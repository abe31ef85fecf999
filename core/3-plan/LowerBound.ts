// The fewest Marketo calls any correct sync of one list's delta can make, derived from what
// Marketo allows, not from the planner (docs/benchmarks.md states it as a formula, and
// test/core/3-plan/LowerBound.test.ts checks it against every correct plan of small cases).
//
// Premises. A member gets onto a list only by an add call naming its lead id, or by a bulk import
// of its row into the list; a lead id comes from the cache, an upsert (which creates the lead when
// there is none) or a lookup (which finds only leads that exist; a member who is new has none); a
// removal needs the lead id and a remove call, and must not create a lead. Every call carries at
// most `batch` (300) ids or emails; an import carries one file (10 MB), and the sync learns that it
// ended, and which rows it refused, only by polling it, at least once per file. A new list costs
// the folder lookup and the creation. An import whose rows would be confirmed after the latency
// target, when upsert + add could be paid for before it, is not a correct plan.
//
// With k the lead ids of adds already known, u the adds whose ids are unknown (s of them not
// importable: a value a CSV cannot carry safely, or a row an import refused), f the files the
// importable ones fill, and r_k, r_u the same for removals:
//   adds      = min(upsert path, import path when it is in time), where
//     upsert  = ⌈u/300⌉ + ⌈(k+u)/300⌉           (learn each unknown id, then add every id)
//     import  = 2f + ⌈s/300⌉ + ⌈(k+s)/300⌉      (each file and its poll; the rest by upsert + add)
//   removals  = ⌈r_u/300⌉ + ⌈(r_k+r_u)/300⌉      (look up each unknown id, then remove every id)
//   + 2 for a new list, + 1 per import already in flight that is due (its poll), + 2 per import
//   whose answer was lost that is due to be looked for (one lookup and one membership check).
// A removal of an email no lead holds costs its lookup and no removal; the bound counts one id per
// unknown email, which only lowers it.
import { chunkEmailsByBytes } from "./ImportFiles.js"
import { isCsvSafe } from "./Csv.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import type { AudienceDelta, PlannedEmail } from "./PlannedEmail.js"
import type { ImportTiming } from "./Planner.js"

export interface BoundLimits {
  /** Records per call (300). */
  readonly batch: number
  /** Files an import of these rows needs (one per 10 MB of CSV). */
  readonly files: (emails: ReadonlyArray<PlannedEmail["email"]>) => number
}

export const marketoBoundLimits: BoundLimits = {
  batch: MarketoLimits.batchSize,
  files: (emails) => chunkEmailsByBytes(emails).length
}

const ids = (e: PlannedEmail) => e.leadIds?.length ?? 0

/** The bound's parts, for the docs and the tests. */
export const lowerBoundParts = (delta: AudienceDelta, timing?: ImportTiming, limits: BoundLimits = marketoBoundLimits) => {
  const per = (n: number) => Math.ceil(n / limits.batch)
  const k = delta.add.reduce((n, e) => n + ids(e), 0)
  const unknownAdds = delta.add.filter((e) => ids(e) === 0)
  const importable = unknownAdds.filter((e) => isCsvSafe(e.email) && e.importFailed !== true)
  const u = unknownAdds.length
  const s = u - importable.length
  const upsertPath = per(u) + per(k + u)
  const importPath = importable.length === 0 ? Number.POSITIVE_INFINITY : 2 * limits.files(importable.map((e) => e.email)) + per(s) + per(k + s)
  const inTime = timing === undefined || timing.confirmMillis(importable.length) <= timing.leftMillis || upsertPath > timing.affordableCalls
  const adds = u === 0 ? per(k) : Math.min(upsertPath, inTime ? importPath : Number.POSITIVE_INFINITY)
  const rk = delta.remove.reduce((n, e) => n + ids(e), 0)
  const ru = delta.remove.filter((e) => ids(e) === 0).length
  const removals = per(ru) + per(rk + ru)
  const newList = delta.listId === undefined && delta.externalListId === undefined ? 2 : 0
  const inFlight = delta.pendingImports.length + 2 * (delta.importChecks?.length ?? 0)
  return { adds, removals, newList, inFlight, importInTime: inTime }
}

/** The fewest calls any correct plan of this delta can make (see the derivation above). */
export const lowerBound = (delta: AudienceDelta, timing?: ImportTiming, limits: BoundLimits = marketoBoundLimits): number => {
  const p = lowerBoundParts(delta, timing, limits)
  return p.newList + p.inFlight + p.adds + p.removals
}
