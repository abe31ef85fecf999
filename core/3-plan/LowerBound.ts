// The fewest Marketo calls any correct sync of one list's delta can make, derived from what
// Marketo allows, not from the planner (docs/benchmarks.md states it as a formula, and
// test/core/3-plan/LowerBound.test.ts checks it against every correct plan of small cases).
//
// Premises. A member gets onto a list only by an add call naming its lead id, or by a bulk import
// of its row into the list (a row whose email has several leads is not imported: Marketo warns
// "multiple lead match"); a lead id comes from the cache, an upsert (which creates the lead when
// there is none) or a lookup (which finds only leads that exist: a member who is new has none); a
// removal needs the lead id and a remove call, and must not create a lead. A call carries at most
// B = 300 ids or emails; an import carries one file of at most 10 MB, so m files hold at most R(m)
// rows (the most rows whose bytes, the shortest first, add up to m × 10 MB), and the sync learns
// that it ended, and which rows it refused, only by polling it: at least once per file. A new list costs the folder lookup and the creation. A plan
// whose changes are confirmed after the latency target, when a plan within the budget could
// confirm them before it, is not correct: an import confirmed too late is then no option. Adds of
// the list waiting beyond this delta (a backlog larger than one tick's) share that budget: each
// takes at least its share of an add call.
//
// With k the lead ids of adds already known, u the adds whose ids are unknown, I_u of them and I_k
// of the known ones importable (a value a CSV carries safely, no refusal by an import before, one
// lead at most), r_k and r_u the same for removals, an add plan using m import files costs at least
//   a(m) = 2m + ⌈u'/B⌉ + ⌈(k' + u')/B⌉,   u' = u − min(I_u, R(m)),
//                                          k' = k − min(I_k, max(0, R(m) − I_u))
// (the imported rows taken from the unknown first: each unknown left costs an upsert share and an
// add share, each known left an add share), so
//   adds      = min over m from 0 to the files all importable rows fill of a(m); only m = 0 when
//               an import would be confirmed after the target and the plan without one, with
//               ⌈(adds waiting beyond the delta)/B⌉ calls more, fits the budget before it,
//   removals  = ⌈r_u/B⌉ + ⌈(r_k + r_u)/B⌉,
//   updates   = ⌈(members whose changed lead fields are sent)/B⌉ (one upsert per 300),
//   + 2 for a new list, + 1 per import in flight whose poll is due, + 2 per import whose answer was
//   lost that is due to be looked for (one lookup, one membership check).
// A removal of an email no lead holds costs its lookup and no removal; the bound counts one id per
// unknown email, which only lowers it.
import { emailHeaderBytes, emailRowBytes, isCsvSafe } from "./Csv.js"
import { importFileCount } from "./ImportFiles.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import type { AudienceDelta, PlannedEmail } from "./PlannedEmail.js"
import type { ImportTiming } from "./Planner.js"

export interface BoundLimits {
  /** Records per call (300). */
  readonly batch: number
  /** Files an import of these rows needs (one per 10 MB of CSV). */
  readonly files: (emails: ReadonlyArray<PlannedEmail["email"]>) => number
  /** The most of these rows `m` files can hold, whichever rows are chosen. */
  readonly rowsIn: (emails: ReadonlyArray<PlannedEmail["email"]>) => (m: number) => number
}

export const marketoBoundLimits: BoundLimits = {
  batch: MarketoLimits.batchSize,
  files: (emails) => importFileCount(emails),
  // m files hold at most m × 10 MB of rows: at most the shortest rows whose bytes add up to that.
  rowsIn: (emails) => {
    const sizes = emails.map(emailRowBytes).sort((a, b) => a - b)
    const upTo: Array<number> = [0]
    for (const size of sizes) upTo.push(upTo[upTo.length - 1]! + size)
    const perFile = MarketoLimits.maxImportFileBytes - emailHeaderBytes
    return (m) => {
      let lo = 0
      let hi = sizes.length
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1
        if (upTo[mid]! <= m * perFile) lo = mid
        else hi = mid - 1
      }
      return lo
    }
  }
}

const ids = (e: PlannedEmail) => e.leadIds?.length ?? 0
const importable = (e: PlannedEmail) => isCsvSafe(e.email) && e.importFailed !== true && ids(e) <= 1

/** The bound's parts, for the docs and the tests. */
export const lowerBoundParts = (delta: AudienceDelta, timing?: ImportTiming, limits: BoundLimits = marketoBoundLimits) => {
  const per = (n: number) => Math.ceil(n / limits.batch)
  const known = delta.add.filter((e) => ids(e) > 0)
  const unknown = delta.add.filter((e) => ids(e) === 0)
  const k = known.reduce((n, e) => n + ids(e), 0)
  const u = unknown.length
  const iu = unknown.filter(importable).length
  const ik = known.filter(importable).length
  const rk = delta.remove.reduce((n, e) => n + ids(e), 0)
  const ru = delta.remove.filter((e) => ids(e) === 0).length
  const removals = per(ru) + per(rk + ru)
  const updates = per(delta.update?.length ?? 0)
  // A list the sender named costs the folder lookup and its check (getStaticList), as a new one does.
  const newList = delta.listId === undefined ? 2 : 0
  const inFlight = delta.pendingImports.length + 2 * (delta.importChecks?.length ?? 0)
  const rows = delta.add.filter(importable).map((e) => e.email)
  const rowsIn = rows.length === 0 ? () => 0 : limits.rowsIn(rows)
  const files = rows.length === 0 ? 0 : limits.files(rows)
  const withFiles = (m: number) => {
    const cap = rowsIn(m)
    const u2 = u - Math.min(iu, cap)
    const k2 = k - Math.min(ik, Math.max(0, cap - iu))
    return 2 * m + per(u2) + per(k2 + u2)
  }
  const withoutImport = withFiles(0)
  const inTime = timing === undefined ||
    timing.confirmMillis(rows.length) <= timing.leftMillis ||
    newList + inFlight + withoutImport + removals + updates + per(timing.addsBeyond ?? 0) > timing.affordableCalls
  let adds = withoutImport
  if (inTime) for (let m = 1; m <= files; m++) adds = Math.min(adds, withFiles(m))
  return { adds, removals, updates, newList, inFlight, importInTime: inTime }
}

/** The fewest calls any correct plan of this delta can make (see the derivation above). */
export const lowerBound = (delta: AudienceDelta, timing?: ImportTiming, limits: BoundLimits = marketoBoundLimits): number => {
  const p = lowerBoundParts(delta, timing, limits)
  return p.newList + p.inFlight + p.adds + p.updates + p.removals
}
