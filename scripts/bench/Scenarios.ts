// The sync bench's scenarios as events: those of `bench:plan` (one audience), a 1,000,000-email
// initial load, and a realistic day (50 audiences, 1,000,000 members in all, 2% churn over 24 h,
// 5% duplicate deliveries, 1% of members entering and leaving within an hour). Seeded: the same
// seed gives the same events.
import { seededRandom } from "../../test/sandbox/SandboxFaults.js"
import type { SimEvent } from "./SimEvents.js"

const emailOf = (user: string) => `${user}@example.com`

let counter = 0
const event = (at: number, audience: string, user: string, member: boolean, emails = [emailOf(user)], extra: Partial<SimEvent> = {}): SimEvent =>
  ({ at, audience, user, emails, member, id: `e${++counter}`, ...extra })

export const members = (audience: string, prefix: string, n: number, at = 0, member = true): Array<SimEvent> =>
  Array.from({ length: n }, (_, i) => event(at, audience, `${prefix}${i}`, member))

export interface PlanScenario {
  readonly setup: ReadonlyArray<SimEvent>
  readonly events: ReadonlyArray<SimEvent>
  /** Lead ids of the members already on the list are in the sync's cache. */
  readonly idsKnown: boolean
  /** The delta as the planner sees it, for the lower bound. */
  readonly delta: { readonly newList: boolean; readonly addUnknown: number; readonly removeKnown: number; readonly removeUnknown: number }
}

const base = 50_000
const audience = "bench"

export const planScenarios = (): Record<string, PlanScenario> => ({
  initial_load_100k: {
    setup: [],
    events: members(audience, "user", 100_000),
    idsKnown: false,
    delta: { newList: true, addUnknown: 100_000, removeKnown: 0, removeUnknown: 0 }
  },
  churn_2pct_ids_known: {
    setup: members(audience, "old", base),
    events: [...members(audience, "new", 1_000), ...members(audience, "old", 1_000, 0, false)],
    idsKnown: true,
    delta: { newList: false, addUnknown: 1_000, removeKnown: 1_000, removeUnknown: 0 }
  },
  churn_2pct_ids_unknown: {
    setup: members(audience, "old", base),
    events: [...members(audience, "new", 1_000), ...members(audience, "old", 1_000, 0, false)],
    idsKnown: false,
    delta: { newList: false, addUnknown: 1_000, removeKnown: 0, removeUnknown: 1_000 }
  },
  mass_exit_50k_ids_known: {
    setup: members(audience, "old", base),
    events: members(audience, "old", base, 0, false),
    idsKnown: true,
    delta: { newList: false, addUnknown: 0, removeKnown: base, removeUnknown: 0 }
  },
  mass_exit_50k_ids_unknown: {
    setup: members(audience, "old", base),
    events: members(audience, "old", base, 0, false),
    idsKnown: false,
    delta: { newList: false, addUnknown: 0, removeKnown: 0, removeUnknown: base }
  },
  enter_exit_10k_same_tick: {
    setup: members(audience, "old", base),
    events: [...members(audience, "flicker", 10_000, 0), ...members(audience, "flicker", 10_000, 5_000, false)],
    idsKnown: false,
    delta: { newList: false, addUnknown: 0, removeKnown: 0, removeUnknown: 0 }
  }
})

export const initialLoad1m = (): PlanScenario => ({
  setup: [],
  events: members(audience, "user", 1_000_000),
  idsKnown: false,
  delta: { newList: true, addUnknown: 1_000_000, removeKnown: 0, removeUnknown: 0 }
})

export interface DayScenario {
  readonly setup: ReadonlyArray<SimEvent>
  readonly events: ReadonlyArray<SimEvent>
  readonly facts: Record<string, number>
}

const day = 24 * 3_600_000

/** 50 audiences of 20,000 members drawn from 600,000 users (95% one email, 3% two, 2% none). */
export const realisticDay = (seed: number): DayScenario => {
  const random = seededRandom(seed)
  const int = (n: number) => Math.floor(random() * n)
  const users = 600_000
  const emailsOf = (u: number): Array<string> => {
    const r = (u * 2654435761) % 100
    return r < 2 ? [] : r < 5 ? [`u${u}@example.com`, `u${u}.work@example.org`] : [`u${u}@example.com`]
  }
  const audiences = Array.from({ length: 50 }, (_, i) => `aud_${String(i).padStart(2, "0")}`)
  const memberSets = audiences.map(() => new Set<number>())
  const setup: Array<SimEvent> = []
  for (const [a, name] of audiences.entries()) {
    const set = memberSets[a]!
    while (set.size < 20_000) set.add(int(users))
    for (const u of set) setup.push(event(int(60_000), name, `u${u}`, true, emailsOf(u)))
  }
  const events: Array<SimEvent> = []
  const pickMember = (a: number) => {
    const arr = [...memberSets[a]!]
    return arr[int(arr.length)]!
  }
  const pickOutsider = (a: number) => {
    for (;;) {
      const u = int(users)
      if (!memberSets[a]!.has(u)) return u
    }
  }
  // 2% daily churn: 10,000 exits and 10,000 entries at random times of the day.
  const churn = 20_000
  for (let i = 0; i < churn; i++) {
    const a = int(audiences.length)
    const member = i % 2 === 0
    const u = member ? pickOutsider(a) : pickMember(a)
    if (member) memberSets[a]!.add(u)
    else memberSets[a]!.delete(u)
    events.push(event(int(day), audiences[a]!, `u${u}`, member, emailsOf(u)))
  }
  // 1% of members (10,000) enter and leave again within an hour.
  const flickers = 10_000
  for (let i = 0; i < flickers; i++) {
    const a = int(audiences.length)
    const u = pickOutsider(a)
    const at = int(day - 3_600_000)
    events.push(event(at, audiences[a]!, `u${u}`, true, emailsOf(u)))
    events.push(event(at + 60_000 + int(59 * 60_000), audiences[a]!, `u${u}`, false, emailsOf(u)))
  }
  // 5% delivered twice (the second up to 10 minutes later), and 10% delivered up to 30 s late.
  const delivered: Array<SimEvent> = []
  for (const e of events) {
    const late = random() < 0.1 ? { deliverAt: e.at + int(30_000) } : {}
    delivered.push({ ...e, ...late })
    if (random() < 0.05) delivered.push({ ...e, deliverAt: e.at + int(600_000), duplicate: true })
  }
  return {
    setup,
    events: delivered,
    facts: { audiences: audiences.length, members: setup.length, events: delivered.length, churn, enter_and_leave: flickers }
  }
}
