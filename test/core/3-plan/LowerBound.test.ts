// The lower bound against every correct plan of small cases. A small Marketo (2 records per call,
// 3 rows per import file) and a brute-force search over every sequence of calls: upserts, lookups,
// adds, removes, imports of any rows, polls, over ticks, an import taking L ticks. A correct plan
// puts every add on the list and knows it (an import's rows count once a poll has seen it ended),
// removes every removal, and, when some plan can, does so by the latency target. No correct plan
// is cheaper than the bound (core/3-plan/LowerBound.ts), and the cheapest costs exactly the bound.
// The search lets a tick make any number of calls; the budget's part of the rule (an import too
// slow for the target is still correct when nothing else fits the budget) has its own cases below.
import { describe, expect, it } from "vitest"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, LeadId, ListId } from "../../../core/1-events/Ids.js"
import { type BoundLimits, lowerBound, marketoBoundLimits } from "../../../core/3-plan/LowerBound.js"
import type { AudienceDelta } from "../../../core/3-plan/PlannedEmail.js"

const B = 2
const perFile = 3
const tick = 60_000
const limits: BoundLimits = { batch: B, files: (rows) => Math.ceil(rows.length / perFile), rowsIn: (rows) => (m) => Math.min(rows.length, m * perFile) }

interface Case {
  readonly knownAdds: number
  readonly unknownAdds: number
  readonly knownRemoves: number
  readonly unknownRemoves: number
  /** Ticks an import takes from sending until a poll can see it ended. */
  readonly importTicks: number
  /** The tick by which everything should be confirmed. */
  readonly targetTicks: number
}

/**
 * The fewest calls of a correct plan: by the target when some plan can, else at all. Members of
 * one kind are interchangeable, so a state counts them: new adds without and with a lead id, cached
 * adds not yet on the list, removals without and with an id, imports in flight (rows, tick sent).
 */
const cheapestPlan = (c: Case): { byTarget: number | undefined; any: number } => {
  const horizon = Math.max(c.targetTicks, c.importTicks) + 2
  type Job = readonly [rows: number, sent: number]
  type State = { t: number; uNo: number; uId: number; kOff: number; rNo: number; rId: number; jobs: ReadonlyArray<Job> }
  const key = (s: State) => `${s.t},${s.uNo},${s.uId},${s.kOff},${s.rNo},${s.rId}|${s.jobs.map((j) => j.join(":")).sort().join(";")}`
  const best = new Map<string, number>()
  // 0-1 breadth-first search: a call costs 1, the next tick 0.
  const front: Array<readonly [State, number]> = []
  const back: Array<readonly [State, number]> = [[{ t: 0, uNo: c.unknownAdds, uId: 0, kOff: c.knownAdds, rNo: c.unknownRemoves, rId: c.knownRemoves, jobs: [] }, 0]]
  let byTarget: number | undefined
  let any = Number.POSITIVE_INFINITY
  let at = 0
  for (;;) {
    const next = front.length > 0 ? front.pop()! : at < back.length ? back[at++]! : undefined
    if (next === undefined) break
    const [s, calls] = next
    if ((best.get(key(s)) ?? Number.POSITIVE_INFINITY) < calls) continue
    if (s.uNo + s.uId + s.kOff + s.rNo + s.rId === 0 && s.jobs.length === 0) {
      any = Math.min(any, calls)
      if (s.t <= c.targetTicks) byTarget = Math.min(byTarget ?? Number.POSITIVE_INFINITY, calls)
      continue
    }
    const push = (n: State, cost: number) => {
      const k = key(n)
      if ((best.get(k) ?? Number.POSITIVE_INFINITY) <= calls + cost) return
      best.set(k, calls + cost)
      if (cost === 0) front.push([n, calls])
      else back.push([n, calls + cost])
    }
    if (s.t < horizon) push({ ...s, t: s.t + 1 }, 0)
    const call = (n: Partial<State>) => push({ ...s, ...n }, 1)
    // Upsert new members (learns their ids); look up leaving ones.
    for (let x = 1; x <= Math.min(B, s.uNo); x++) call({ uNo: s.uNo - x, uId: s.uId + x })
    for (let x = 1; x <= Math.min(B, s.rNo); x++) call({ rNo: s.rNo - x, rId: s.rId + x })
    // Add by id: new members whose ids were learned, cached ones; remove by id.
    for (let a = 0; a <= Math.min(B, s.uId); a++) {
      for (let b = 0; a + b <= B && b <= s.kOff; b++) if (a + b > 0) call({ uId: s.uId - a, kOff: s.kOff - b })
    }
    for (let x = 1; x <= Math.min(B, s.rId); x++) call({ rId: s.rId - x })
    // Import any rows not on the list yet (one file), and poll an import that has had its time.
    for (let a = 0; a <= s.uNo; a++) {
      for (let b = 0; b <= s.uId; b++) {
        for (let k = 0; k <= s.kOff; k++) {
          const rows = a + b + k
          if (rows > 0 && rows <= perFile) call({ uNo: s.uNo - a, uId: s.uId - b, kOff: s.kOff - k, jobs: [...s.jobs, [rows, s.t]] })
        }
      }
    }
    s.jobs.forEach(([, sent], j) => {
      if (s.t >= sent + c.importTicks) call({ jobs: s.jobs.filter((_, i) => i !== j) })
    })
  }
  return { byTarget, any }
}

const deltaOf = (c: Case): AudienceDelta => {
  const email = (p: string, i: number) => `${p}${i}@example.com` as Email
  return {
    audience: "small" as AudienceKey,
    listName: "small",
    folderName: "F",
    listId: 1 as ListId,
    add: [
      ...Array.from({ length: c.knownAdds }, (_, i) => ({ email: email("k", i), leadIds: [(100 + i) as LeadId] })),
      ...Array.from({ length: c.unknownAdds }, (_, i) => ({ email: email("u", i) }))
    ],
    remove: [
      ...Array.from({ length: c.knownRemoves }, (_, i) => ({ email: email("r", i), leadIds: [(200 + i) as LeadId] })),
      ...Array.from({ length: c.unknownRemoves }, (_, i) => ({ email: email("q", i) }))
    ],
    pendingImports: []
  }
}

const cases: Array<Case> = []
for (let knownAdds = 0; knownAdds <= 2; knownAdds++) {
  for (let unknownAdds = 0; unknownAdds <= 4; unknownAdds++) {
    for (let knownRemoves = 0; knownRemoves <= 2; knownRemoves++) {
      for (let unknownRemoves = 0; unknownRemoves <= 2; unknownRemoves++) {
        if (knownAdds + unknownAdds > 4 || knownAdds + unknownAdds + knownRemoves + unknownRemoves > 6) continue
        for (const importTicks of [1, 3]) for (const targetTicks of [1, 2]) {
          cases.push({ knownAdds, unknownAdds, knownRemoves, unknownRemoves, importTicks, targetTicks })
        }
      }
    }
  }
}

describe("the lower bound against every correct plan of small cases", () => {
  it(`holds in all ${cases.length} cases, and the cheapest correct plan costs exactly the bound`, () => {
    const beaten: Array<string> = []
    const loose: Array<string> = []
    for (const c of cases) {
      const { any, byTarget } = cheapestPlan(c)
      const cheapest = byTarget ?? any
      const bound = lowerBound(deltaOf(c), { confirmMillis: () => c.importTicks * tick, leftMillis: c.targetTicks * tick, affordableCalls: Number.POSITIVE_INFINITY }, limits)
      if (cheapest < bound) beaten.push(`${JSON.stringify(c)}: a plan of ${cheapest} calls, bound ${bound}`)
      else if (cheapest > bound) loose.push(`${JSON.stringify(c)}: cheapest ${cheapest}, bound ${bound}`)
    }
    expect(beaten).toEqual([])
    expect(loose).toEqual([])
  }, 120_000)

  it("would catch a bound that counts adds by cached id apart from adds by upserted id", () => {
    // One cached and one new member: upsert the new one, then one add call for both (2 calls, not 3).
    const c: Case = { knownAdds: 1, unknownAdds: 1, knownRemoves: 0, unknownRemoves: 0, importTicks: 1, targetTicks: 2 }
    expect(cheapestPlan(c).byTarget).toBe(2)
    expect(lowerBound(deltaOf(c), undefined, limits)).toBe(2)
  })

  it("excludes an import confirmed after the target when upsert + add fits the budget before it, not when it does not", () => {
    // Three new members: one file and its poll (2 calls) beats two upserts and two adds (4), but the
    // import takes three ticks and the target is two: the correct plans are the four calls.
    const slow: Case = { knownAdds: 0, unknownAdds: 3, knownRemoves: 0, unknownRemoves: 0, importTicks: 3, targetTicks: 2 }
    expect(cheapestPlan(slow)).toEqual({ byTarget: 4, any: 2 })
    expect(lowerBound(deltaOf(slow), { confirmMillis: () => 3 * tick, leftMillis: 2 * tick, affordableCalls: 4 }, limits)).toBe(4)
    // When the budget allows fewer calls than that before the target, no plan keeps it: the import is correct again.
    expect(lowerBound(deltaOf(slow), { confirmMillis: () => 3 * tick, leftMillis: 2 * tick, affordableCalls: 3 }, limits)).toBe(2)
    // With the import in time, it is the cheapest.
    expect(lowerBound(deltaOf(slow), { confirmMillis: () => 1 * tick, leftMillis: 2 * tick, affordableCalls: 150 }, limits)).toBe(2)
  })
})

describe("the lower bound with Marketo's limits", () => {
  it("counts the files a load needs by its bytes, not by its shortest row", () => {
    // 1,000,000 new emails of 22 to 26 bytes a row: about 24 MB of CSV, so at least 3 files of 10 MB.
    const add = Array.from({ length: 1_000_000 }, (_, i) => ({ email: `user${i}@example.com` as Email }))
    const delta: AudienceDelta = { audience: "a" as AudienceKey, listName: "a", folderName: "f", add, remove: [], pendingImports: [] }
    expect(marketoBoundLimits.files(add.map((e) => e.email))).toBe(3)
    const rowsIn = marketoBoundLimits.rowsIn(add.map((e) => e.email))
    expect(rowsIn(2)).toBeLessThan(add.length)
    expect(rowsIn(3)).toBe(add.length)
    // The folder lookup and the list's creation, then 3 files and their polls.
    expect(lowerBound(delta)).toBe(2 + 2 * 3)
    // A known list and 600 new emails: one file and its poll beat two upserts and two adds.
    expect(lowerBound({ ...delta, listId: 1 as ListId, add: add.slice(0, 600) })).toBe(2)
  })
})
