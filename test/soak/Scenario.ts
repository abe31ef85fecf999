// Seeded audience traffic for the soak: users with 0–3 emails (some emails shared between users),
// enter and exit words per (audience, user) with strictly increasing timestamps, sent as Segment
// events (one per email, as Engage does), then delivered in random batches, out of order and with
// duplicates. The desired lists are computed here, from what was generated, never from the worker.

export type Random = () => number

export const pick = <A>(random: Random, items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!
export const between = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1))

export interface SoakUser {
  readonly id: string
  /** As sent; the case may differ from the pool's (the worker normalises emails). */
  readonly emails: ReadonlyArray<string>
}

export type SegmentEventJson = Record<string, unknown>

const baseTimestamp = Date.parse("2026-11-20T00:00:00Z")

export class Traffic {
  readonly audiences: ReadonlyArray<string>
  readonly users: Array<SoakUser> = []
  /** Last word per audience and user: member or not, by event timestamp. */
  private readonly words = new Map<string, Map<string, boolean>>()
  /** Events generated and not yet delivered once. */
  private readonly pending: Array<SegmentEventJson> = []
  /** Events delivered at least once (duplicates are drawn from here). */
  private readonly delivered: Array<SegmentEventJson> = []
  private clock = 0
  private wordCount = 0
  private bulkCount = 0
  eventsGenerated = 0

  constructor(private readonly random: Random, audienceCount: number, userCount: number) {
    this.audiences = Array.from({ length: audienceCount }, (_, i) => `soak_audience_${i + 1}`)
    for (const audience of this.audiences) this.words.set(audience, new Map())
    const pool = Array.from({ length: Math.ceil(userCount * 1.3) }, (_, i) => `person${i + 1}@soak.example`)
    for (let i = 0; i < userCount; i++) {
      const count = pick(random, [0, 1, 1, 1, 2, 2, 3])
      const emails = new Set<string>()
      while (emails.size < count) emails.add(pick(random, pool))
      // Sometimes an email is sent in another case: the same email for Marketo and the worker.
      this.users.push({ id: `user-${i + 1}`, emails: [...emails].map((e) => (random() < 0.1 ? e.toUpperCase() : e)) })
    }
  }

  /** One word: the user enters or leaves the audience now (one event per email, or one without). */
  word(audience: string, user: SoakUser, member: boolean) {
    const timestamp = new Date(baseTimestamp + ++this.clock * 1000).toISOString()
    const wordId = `w${++this.wordCount}`
    this.words.get(audience)!.set(user.id, member)
    const emails = user.emails.length === 0 ? [undefined] : user.emails
    emails.forEach((email, k) => {
      this.pending.push(this.event(audience, user.id, member, email, `${wordId}-${k}`, timestamp))
      this.eventsGenerated++
    })
  }

  private event(audience: string, userId: string, member: boolean, email: string | undefined, messageId: string, timestamp: string): SegmentEventJson {
    const personas = { computation_key: audience, computation_class: "audience" }
    if (this.random() < 0.5) {
      return { type: "identify", userId, messageId, timestamp, traits: { ...(email === undefined ? {} : { email }), [audience]: member }, context: { personas } }
    }
    return {
      type: "track",
      event: member ? "Audience Entered" : "Audience Exited",
      userId,
      messageId,
      timestamp,
      properties: { audience_key: audience, [audience]: member },
      context: { ...(email === undefined ? {} : { traits: { email } }), personas }
    }
  }

  /** A few random words across audiences and users. */
  randomWords(count: number) {
    for (let i = 0; i < count; i++) {
      const audience = pick(this.random, this.audiences)
      const user = pick(this.random, this.users)
      const current = this.words.get(audience)!.get(user.id) ?? false
      // Mostly flip; sometimes repeat the same word (a no-op for the list).
      this.word(audience, user, this.random() < 0.8 ? !current : current)
    }
  }

  /** Many new members at once in one audience (large enough for a bulk import). */
  bulkEnter(audience: string, count: number) {
    for (let i = 0; i < count; i++) {
      const n = ++this.bulkCount
      const user: SoakUser = { id: `bulk-user-${n}`, emails: [`bulk${n}@soak.example`] }
      this.users.push(user)
      this.word(audience, user, true)
    }
  }

  /** The next batch to send: random pending events (out of order), plus some already sent. */
  nextBatch(size: number): Array<SegmentEventJson> {
    const batch: Array<SegmentEventJson> = []
    for (let i = 0; i < size && this.pending.length > 0; i++) {
      const at = Math.floor(this.random() * this.pending.length)
      const [event] = this.pending.splice(at, 1)
      batch.push(event!)
      this.delivered.push(event!)
    }
    const duplicates = this.delivered.length === 0 ? 0 : Math.floor(batch.length * this.random() * 0.3)
    for (let i = 0; i < duplicates; i++) batch.push(pick(this.random, this.delivered))
    return batch
  }

  get pendingEvents() {
    return this.pending.length
  }

  /** Per audience (its list's name): every email of every member user, lower-case. */
  desired(): Map<string, Set<string>> {
    const byId = new Map(this.users.map((u) => [u.id, u]))
    const lists = new Map<string, Set<string>>()
    for (const [audience, words] of this.words) {
      const emails = new Set<string>()
      for (const [userId, member] of words) {
        if (member) for (const email of byId.get(userId)!.emails) emails.add(email.toLowerCase())
      }
      lists.set(audience, emails)
    }
    return lists
  }
}
