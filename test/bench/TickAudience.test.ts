// The tick benchmarks' audience: the ledger keeps each member's newest word by the event's
// timestamp, so the benchmark's own expected list is right only if every event it sends about a
// member is newer than the ones before it. At 10,000,000 members a round's 100,000 exits span
// 100 s; rounds spaced by less once stamped some exits before the same members' entries.
import { describe, expect, it } from "vitest"
import { makeAudience } from "../../scripts/bench/TickAudience.js"

const userOf = (event: { readonly userId: string }) => Number(event.userId.slice(1))

describe("bench:tick's audience", () => {
  it("stamps each member's events in the order they are sent, whatever the churn", () => {
    // A churn as large as 10,000,000 members' 2% (200,000), on a smaller audience to stay quick.
    const members = 300_000
    const audience = makeAudience(members, 200_000, 3)
    const last = new Map<number, number>()
    for (const e of audience.initialEvents(0, members)) last.set(userOf(e), Date.parse(e.timestamp))
    let older = 0
    let events = 0
    for (let round = 1; round <= 3; round++) {
      for (const e of audience.churnEvents()) {
        const at = Date.parse(e.timestamp)
        const before = last.get(userOf(e))
        if (before !== undefined && at <= before) older++
        last.set(userOf(e), at)
        events++
      }
    }
    expect(events).toBe(600_000)
    expect(older).toBe(0)
  })
})
