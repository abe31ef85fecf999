// No amplification: an inbox entry stores each audience once and each event once with its emails,
// so what is stored stays within twice the bytes of the body that produced it, whatever its shape.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import fc from "fast-check"
import { decodeEventsText } from "../../../core/1-events/EventDecoder.js"
import { parseLeadFieldMapping } from "../../../core/1-events/LeadFields.js"
import { appendInbox } from "../../../core/2-ledger/Inbox.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { StateStore } from "../../../core/ports/StateStore.js"
import { makeStateStoreMemory } from "../../../core/ports/StateStoreMemory.js"

const receivedAt = Date.parse("2026-12-01T00:00:00Z")
const utf8 = (text: string) => new TextEncoder().encode(text).length
/** Every trait the events below may carry is mapped, with fallbacks, so lead field values are stored too. */
const mapping = Either.getOrThrow(parseLeadFieldMapping("firstName=firstName|first_name,lastName=lastName|l,a=a,b=b,c=c,d=d"))

/** Bytes stored for a body: the entry and its summary. */
const storedBytes = (body: string) =>
  Effect.gen(function*() {
    const store = yield* makeStateStoreMemory()
    const decoded = Either.getOrThrow(decodeEventsText(body, receivedAt, mapping))
    const key = yield* appendInbox(decoded).pipe(Effect.provideService(StateStore, store))
    const entry = Option.getOrThrow(yield* store.get(key))
    const summary = Option.getOrThrow(yield* store.get(StateKeys.inboxSummaryOf(key)))
    return { entry: utf8(entry), summary: utf8(summary), accepted: decoded.accepted }
  })

const eventOf = (audience: string, user: string, emails: ReadonlyArray<string>, withId: boolean, traits: Record<string, unknown> = {}) => ({
  type: "identify",
  userId: user,
  ...(withId ? { messageId: `m-${user}` } : {}),
  timestamp: "2026-11-30T10:00:00Z",
  traits: { ...traits, email: emails, [audience]: true },
  context: { personas: { computation_key: audience } }
})

/** Trait values as senders write them: text (with commas, quotes, newlines, non-ASCII), numbers, booleans, nothing. */
const traitValue = fc.oneof(fc.string({ maxLength: 40 }), fc.fullUnicodeString({ maxLength: 12 }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null))

describe("inbox size", () => {
  it.effect("any batch of valid events is stored in at most twice the bytes of its body", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              audience: fc.stringMatching(/^[a-z_]{1,12}$/),
              user: fc.stringMatching(/^[a-z0-9]{1,8}$/),
              emails: fc.array(fc.stringMatching(/^[a-z]{1,6}@[a-z]{1,5}\.(com|io)$/), { maxLength: 5 }),
              withId: fc.boolean(),
              traits: fc.dictionary(fc.constantFrom("firstName", "first_name", "lastName", "l", "a", "b", "c", "d", "x"), traitValue, { maxKeys: 9 })
            }),
            { minLength: 1, maxLength: 50 }
          ),
          (events) =>
            Effect.runPromise(Effect.gen(function*() {
              const body = JSON.stringify({ batch: events.map((e) => eventOf(e.audience, e.user, e.emails, e.withId, e.traits)) })
              const stored = yield* storedBytes(body)
              expect(stored.entry + stored.summary).toBeLessThanOrEqual(2 * utf8(body))
            }))
        ),
        { numRuns: 300 }
      )
    ))

  it.effect("a 4 MiB body of one audience with 100 emails and a name per event is stored in fewer bytes than the body", () =>
    Effect.gen(function*() {
      const events: Array<unknown> = []
      // `{"batch":[` + events joined by commas + `]}`: grow it event by event up to 4 MiB.
      let size = utf8('{"batch":[]}')
      for (let i = 0; ; i++) {
        const next = eventOf("big_audience", `user-${i}`, Array.from({ length: 100 }, (_, j) => `u${i}.e${j}@example.com`), true, { firstName: `Ada ${i}`, lastName: "Lovelace" })
        const grown = size + utf8(JSON.stringify(next)) + (i === 0 ? 0 : 1)
        if (grown > 4 * 1024 * 1024) break
        events.push(next)
        size = grown
      }
      const body = JSON.stringify({ batch: events })
      expect(utf8(body)).toBe(size)
      const stored = yield* storedBytes(body)
      expect(stored.accepted).toBe(events.length)
      expect(stored.entry + stored.summary).toBeLessThanOrEqual(utf8(body))
    }), { timeout: 120_000 })
})
