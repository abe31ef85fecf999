// The audience of the tick benchmarks (bench:tick in workerd, bench:tick-heap in a capped Node
// process): users numbered from 0, one email each, entering and leaving one audience through
// Segment identify events; what its list should hold, and how the sandbox's list differs from it.
import { seededRandom } from "../../test/sandbox/SandboxFaults.js"
import type { SandboxServer } from "../../test/sandbox/server.js"

export const audienceKey = "bench_vip"
export const T0 = Date.now() - 2 * 86_400_000

export const email = (user: number) => `member${user}@example.com`

export const event = (user: number, member: boolean, timestamp: number) => ({
  type: "identify",
  userId: `u${user}`,
  messageId: `m-${timestamp}-${user}`,
  timestamp: new Date(timestamp).toISOString(),
  traits: { email: email(user), [audienceKey]: member },
  context: { personas: { computation_key: audienceKey, computation_class: "audience" } }
})

/** What a tick answered (the part the benchmarks read). */
export interface TickAnswer {
  readonly inboxFolded: number
  readonly changesFolded: number
  readonly calls: number
  readonly stoppedBy?: string | undefined
  /** Steps each audience ran, calls or not (staging an import file's part makes none). */
  readonly audiences: ReadonlyArray<{ readonly stepsDone: number }>
  /** What the tick asked of the state store, as the tick counted it (core/5-tick/CountingStore.ts). */
  readonly storage: { readonly reads: number; readonly writes: number; readonly deletes: number; readonly lists: number }
}

export const makeAudience = (members: number, churn: number, rounds: number) => {
  const capacity = members + churn * rounds
  const member = new Uint8Array(capacity)
  let nextUser = members
  const random = seededRandom(12345)

  /** The initial members `from` to `to` (excluded), entering. */
  const initialEvents = (from: number, to: number) => {
    const events = []
    for (let u = from; u < Math.min(members, to); u++) {
      events.push(event(u, true, T0 + u))
      member[u] = 1
    }
    return events
  }

  // The ledger keeps each member's newest word (by the event's timestamp), so every round's
  // events are stamped after every earlier event: a round's events span `churn` milliseconds
  // from `roundClock`, which starts past the initial members' (T0 + user number).
  let roundClock = T0 + capacity

  /** One round of churn: half of it random members leaving, half new members entering. */
  const churnEvents = () => {
    const at = roundClock
    roundClock += churn
    const events = []
    for (let exits = 0; exits < churn / 2;) {
      const u = Math.floor(random() * nextUser)
      if (member[u] !== 1) continue
      member[u] = 0
      events.push(event(u, false, at + exits++))
    }
    for (let i = 0; i < churn / 2; i++) {
      member[nextUser] = 1
      events.push(event(nextUser++, true, at + Math.ceil(churn / 2) + i))
    }
    return events
  }

  /** Differences between the sandbox's list (the only list in the folder) and the expected members. */
  const listDiff = (sandbox: SandboxServer) => {
    const lists = [...sandbox.sandbox.state.lists.values()]
    if (lists.length !== 1) return { lists: lists.length, size: 0, missing: -1, extra: -1 }
    const list = lists[0]!
    const leads = sandbox.sandbox.state.leads
    let extra = 0
    let present = 0
    for (const id of list.members) {
      const e = leads.get(id)?.email ?? ""
      const user = Number(/^member(\d+)@/.exec(e)?.[1] ?? -1)
      if (user >= 0 && member[user] === 1) present++
      else extra++
    }
    let expected = 0
    for (let u = 0; u < capacity; u++) expected += member[u]!
    return { lists: 1, size: list.members.size, missing: expected - present, extra }
  }

  /**
   * What people do to a list by hand, for a reconcile to repair: `count` expected members taken off
   * the sandbox's list and `count` former members put back on it (their leads still exist).
   */
  const drift = (sandbox: SandboxServer, count: number) => {
    const lists = [...sandbox.sandbox.state.lists.values()]
    if (lists.length !== 1) throw new Error(`drift needs the audience's one list, found ${lists.length}`)
    const list = lists[0]!
    const pick = seededRandom(777)
    const leadOf = (user: number) => sandbox.sandbox.leadIdsOf(email(user))[0]
    let taken = 0
    for (let tries = 0; taken < count && tries < 100 * count; tries++) {
      const user = Math.floor(pick() * nextUser)
      const lead = leadOf(user)
      if (member[user] === 1 && lead !== undefined && list.members.delete(lead)) taken++
    }
    // Former members are few after few rounds: taken in order from a random user on.
    let put = 0
    const from = Math.floor(pick() * nextUser)
    for (let i = 0; put < count && i < nextUser; i++) {
      const user = (from + i) % nextUser
      const lead = leadOf(user)
      if (member[user] !== 1 && lead !== undefined && !list.members.has(lead)) {
        list.members.add(lead)
        put++
      }
    }
    return { takenOff: taken, putOn: put }
  }

  /** Ticks until the sandbox's list is exact; how many it took. */
  const tickUntilExact = async (
    sandbox: SandboxServer,
    tick: () => Promise<TickAnswer>,
    limit: number,
    label: string,
    log: (line: string) => void
  ) => {
    for (let n = 1; n <= limit; n++) {
      const s = await tick()
      const d = listDiff(sandbox)
      log(`${label} tick ${n}: folded ${s.inboxFolded} entries / ${s.changesFolded} changes, ${s.calls} calls, stopped by ${s.stoppedBy ?? "done"}; list ${d.size} (missing ${d.missing}, extra ${d.extra})`)
      if (d.lists === 1 && d.missing === 0 && d.extra === 0) return n
      // Nothing due: the worker polls an import only once it is expected to have ended (10 minutes
      // after sending, until it has learned the instance's import latency: core/3-plan/ImportLatency.ts).
      const idle = s.inboxFolded === 0 && s.calls === 0 && s.audiences.every((a) => a.stepsDone === 0)
      if (idle) await sleep(15_000)
      // Nothing new but a status poll: an import is still running in the sandbox (7 s by default).
      else if (s.inboxFolded === 0 && s.calls <= 2) await sleep(1000)
    }
    throw new Error(`${label}: the list is not exact after ${limit} ticks: ${JSON.stringify(listDiff(sandbox))}`)
  }

  return { initialEvents, churnEvents, listDiff, drift, tickUntilExact }
}

export const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
export const mb = (bytes: number) => Math.round(bytes / 1048576 * 10) / 10
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
export const clockLog = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)
