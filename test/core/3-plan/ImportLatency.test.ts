// The poll schedule of imports, learned from the polls themselves: a list's imports run one at a
// time (Marketo answers 1019 to a second), so while adds wait behind an import, finding out that it
// ended is worth a few polls. Simulated on a clock of one-minute ticks: each import sent on a tick,
// polled on the first tick its poll is due, the next sent on the tick after the poll that saw it end.
import { describe, expect, it } from "vitest"
import { importPollAfterMillis, noImportLatency, observeImport, priorImportMillis } from "../../../core/3-plan/ImportLatency.js"

const tick = 60_000
const rows = 100_000

/** Ten imports of `rows`, each taking `takes` ms: the polls made and when the last was seen ended. */
const loadOfTen = (takes: number, waiting: boolean) => {
  let latency = noImportLatency
  let now = 0
  let polls = 0
  const confirmedLate: Array<number> = []
  for (let i = 0; i < 10; i++) {
    const sentAt = now
    for (;;) {
      const due = sentAt + importPollAfterMillis(latency, rows, tick, waiting)
      now = Math.max(now + tick, Math.ceil(due / tick) * tick)
      polls++
      const ended = now - sentAt >= takes
      latency = observeImport(latency, rows, now - sentAt, ended, now)
      if (ended) break
    }
    // How long after the import ended its end was seen.
    confirmedLate.push(now - sentAt - takes)
    now += tick
  }
  return { polls, minutes: now / tick, confirmedLate }
}

describe("import polls while adds wait behind the import", () => {
  it("with nothing learned: the first poll a tick after sending when adds wait, at the prior when none do", () => {
    expect(importPollAfterMillis(noImportLatency, rows, tick, true)).toBe(tick)
    expect(importPollAfterMillis(noImportLatency, rows, tick, false)).toBe(priorImportMillis)
  })

  it("imports of seconds: every import seen ended on the first tick after it, one poll each", () => {
    const waiting = loadOfTen(7_000, true)
    expect(waiting.polls).toBe(10)
    expect(Math.max(...waiting.confirmedLate)).toBeLessThan(tick)
    // Without adds waiting, the estimate comes down by a quarter per import from the 10-minute prior.
    const idle = loadOfTen(7_000, false)
    expect(idle.minutes).toBeGreaterThan(2 * waiting.minutes)
  })

  it("imports of minutes: a few polls find the time, then each import is seen ended within a tick of its end", () => {
    const takes = 440_000 // 100,000 rows of the sandbox's realistic profile: 60 s queued, 180 s + 2 ms a row
    const waiting = loadOfTen(takes, true)
    expect(waiting.polls).toBeLessThanOrEqual(10 + 6)
    expect(waiting.confirmedLate.slice(2).every((late) => late < tick)).toBe(true)
    const idle = loadOfTen(takes, false)
    expect(waiting.minutes).toBeLessThan(idle.minutes)
  })
})
