// The bench's audience events, the truth they imply (which emails each list should hold), and the
// latency probe: from each event to the moment the sandbox's list agrees with it.
import type { SandboxModel } from "../../test/sandbox/SandboxModel.js"

export interface SimEvent {
  /** Simulated epoch ms the CDP sent it. */
  readonly at: number
  readonly audience: string
  readonly user: string
  readonly emails: ReadonlyArray<string>
  readonly member: boolean
  readonly id: string
  /** When it reaches the worker, if later than `at` (a late or repeated delivery). */
  readonly deliverAt?: number
  /** A redelivery of an earlier event (same id and timestamp). */
  readonly duplicate?: boolean
}

const firstNames = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Katherine", "Margaret", "Donald", "Frances", "Radia", "Zoë", "José"]
const lastNames = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Johnson", "Hamilton", "Knuth", "Allen", "Perlman", "O'Brien, Jr.", "Müller"]

/** A member's name, the same in every event of the user (drawn from its id; some with a comma, an apostrophe or an accent). */
export const namesOf = (user: string): { readonly firstName: string; readonly lastName: string } => {
  let h = 0x811c9dc5
  for (let i = 0; i < user.length; i++) h = Math.imul(h ^ user.charCodeAt(i), 0x01000193)
  h >>>= 0
  return { firstName: firstNames[h % firstNames.length]!, lastName: lastNames[(h >>> 8) % lastNames.length]! }
}

/** The user a bench email belongs to: `u12@example.com` and `u12.work@example.org` are u12's. */
export const userOfEmail = (email: string) => email.slice(0, email.indexOf("@")).replace(/\.work$/, "")

/** The event as Segment Engage sends it (identify with the member's name, audience trait, personas context). */
export const toSegment = (e: SimEvent) => ({
  type: "identify",
  userId: e.user,
  messageId: e.id,
  timestamp: new Date(e.at).toISOString(),
  traits: { ...namesOf(e.user), ...(e.emails.length === 0 ? {} : { email: e.emails.length === 1 ? e.emails[0] : [...e.emails] }), [e.audience]: e.member },
  context: { personas: { computation_key: e.audience, computation_class: "audience" } }
})

interface Word {
  readonly member: boolean
  readonly at: number
  readonly id: string
  readonly emails: ReadonlyArray<string>
}

/** The latest word of each user in each audience (last writer wins by time, then id). */
export class Truth {
  private readonly words = new Map<string, Map<string, Word>>()
  /** Per audience, per email: the member users holding it. */
  private readonly holders = new Map<string, Map<string, Set<string>>>()

  apply(e: SimEvent) {
    const users = this.words.get(e.audience) ?? new Map<string, Word>()
    this.words.set(e.audience, users)
    const old = users.get(e.user)
    if (old !== undefined && (old.at > e.at || (old.at === e.at && old.id >= e.id))) return
    users.set(e.user, { member: e.member, at: e.at, id: e.id, emails: e.emails })
    const held = this.holders.get(e.audience) ?? new Map<string, Set<string>>()
    this.holders.set(e.audience, held)
    if (old?.member === true) {
      for (const email of old.emails) {
        const set = held.get(email.toLowerCase())
        set?.delete(e.user)
        if (set?.size === 0) held.delete(email.toLowerCase())
      }
    }
    if (e.member) {
      for (const email of e.emails) {
        const key = email.toLowerCase()
        const set = held.get(key) ?? new Set<string>()
        set.add(e.user)
        held.set(key, set)
      }
    }
  }

  wants(audience: string, email: string): boolean {
    return this.holders.get(audience)?.has(email.toLowerCase()) ?? false
  }

  desired(audience: string): ReadonlySet<string> {
    return new Set(this.holders.get(audience)?.keys() ?? [])
  }

  audiences(): ReadonlyArray<string> {
    return [...this.words.keys()]
  }
}

/** Every list exactly as the events say: no email missing, none extra. */
export const listsExact = (truth: Truth, sandbox: SandboxModel): boolean =>
  truth.audiences().every((audience) => {
    const want = truth.desired(audience)
    const have = sandbox.memberEmails(audience)
    if (want.size !== have.size) return false
    for (const email of want) if (!have.has(email)) return false
    return true
  })

/** The share of the emails on the lists whose lead carries the member's first and last name. */
export const namedShare = (truth: Truth, sandbox: SandboxModel): number => {
  let wanted = 0
  let named = 0
  for (const audience of truth.audiences()) {
    for (const email of truth.desired(audience)) {
      wanted++
      const lead = sandbox.state.leads.get(sandbox.state.byEmail.get(email)?.[0] ?? -1)
      const names = namesOf(userOfEmail(email))
      if (lead?.fields.get("firstName") === names.firstName && lead.fields.get("lastName") === names.lastName) named++
    }
  }
  return wanted === 0 ? 1 : Math.round((named / wanted) * 1000) / 1000
}

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

/**
 * Waits for each (list, email) change to show in the sandbox. A later event for the same list and
 * email replaces an earlier one not yet shown (only the latest word has to reach the list).
 */
export class LatencyProbe {
  private readonly waiting = new Map<string, { since: number; audience: string; email: string; want: boolean }>()
  readonly latencies: Array<number> = []

  constructor(private readonly truth: Truth) {}

  note(e: SimEvent) {
    this.truth.apply(e)
    if (e.duplicate === true) return
    for (const email of e.emails) {
      const key = `${e.audience}\u0000${email}`
      // What the list should say now, whoever holds the email.
      const want = this.truth.wants(e.audience, email)
      const existing = this.waiting.get(key)
      // Measured from when the change reached us: a CDP's own delay is not the sync's latency.
      const arrived = e.deliverAt ?? e.at
      this.waiting.set(key, { since: existing !== undefined && existing.want === want ? existing.since : arrived, audience: e.audience, email, want })
    }
  }

  /** Changes the sandbox now shows, measured at `now`. */
  check(sandbox: SandboxModel, now: number) {
    if (this.waiting.size === 0) return
    sandbox.settleImports(now)
    for (const [key, w] of this.waiting) {
      if (sandbox.isMember(w.audience, w.email) === w.want) {
        this.latencies.push(now - w.since)
        this.waiting.delete(key)
      }
    }
  }

  get pending() {
    return this.waiting.size
  }

  summary() {
    const sorted = [...this.latencies].sort((a, b) => a - b)
    return {
      changes: sorted.length,
      p50_s: Math.round(percentile(sorted, 50) / 1000),
      p95_s: Math.round(percentile(sorted, 95) / 1000),
      max_s: Math.round((sorted[sorted.length - 1] ?? 0) / 1000)
    }
  }
}
