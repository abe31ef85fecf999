// Limits by construction: whatever audience key the decoder accepts, every storage key derived
// from it — with the largest shard, journal, epoch and version suffixes — fits Workers KV's
// 512-byte key limit, and user and message ids never become part of a key.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import fc from "fast-check"
import { decodeEvents } from "../../../core/1-events/EventDecoder.js"
import { type AudienceKey, maxEncodedAudienceKeyBytes } from "../../../core/1-events/Ids.js"
import { appendInbox } from "../../../core/2-ledger/Inbox.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { runTick } from "../../../core/5-tick/Tick.js"
import { MarketoApi } from "../../../core/ports/MarketoApi.js"
import { makeMarketoMemory } from "../../../core/ports/MarketoApiMemory.js"
import { keySuffixBytes, maxKeyBytes, StateStore } from "../../../core/ports/StateStore.js"
import { makeStateStoreMemory } from "../../../core/ports/StateStoreMemory.js"

const receivedAt = Date.parse("2026-12-01T00:00:00Z")
const bytes = (key: string) => new TextEncoder().encode(key).length
const event = (key: string, user: string, messageId: string) => ({
  type: "identify",
  userId: user,
  messageId,
  timestamp: "2026-11-30T10:00:00Z",
  traits: { email: "ada@example.com", [key]: true },
  context: { personas: { computation_key: key } }
})
/** Keys as people and attackers write them: any Unicode, percent signs, slashes, dots. */
const anyKey = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 300 }),
  fc.string({ unit: fc.constantFrom("%", "/", ".", "a", "語", "😀", " "), minLength: 1, maxLength: 300 }),
  // Near the limit, where an off-by-some would show.
  fc.tuple(fc.string({ maxLength: 5 }), fc.constantFrom("%", "語", "😀", "a", "/"), fc.integer({ min: 1, max: 500 }))
    .map(([prefix, unit, n]) => `a${prefix}${unit.repeat(n)}`)
)

describe("storage keys", () => {
  it("an accepted audience key yields storage keys within the KV limit, version suffix included", () => {
    fc.assert(
      fc.property(anyKey, (key) => {
        const out = Either.getOrThrow(decodeEvents([event(key, "u1", "m1")], receivedAt))
        const accepted = out.memberships[0]
        if (accepted === undefined) {
          expect(out.rejected[0]?.reason).toMatch(/audience key|computation_key|membership/)
          return
        }
        expect(bytes(StateKeys.longestAudienceKey(accepted.audience)) + keySuffixBytes).toBeLessThanOrEqual(maxKeyBytes)
      }),
      { numRuns: 2_000 }
    )
  })

  it("refuses a key that would not fit, naming the limit: 250 percent signs, 120 CJK characters", () => {
    for (const key of ["%".repeat(250), "語".repeat(120)]) {
      const out = Either.getOrThrow(decodeEvents([event(key, "u1", "m1")], receivedAt))
      expect(out.memberships).toEqual([])
      expect(out.rejected[0]?.reason).toMatch(/bytes once percent-encoded for storage; at most 400 fit within Workers KV's 512-byte key limit/)
    }
    // At the limit exactly it is accepted: 133 percent signs take 399 bytes.
    expect(Either.getOrThrow(decodeEvents([event("%".repeat(133), "u1", "m1")], receivedAt)).memberships).toHaveLength(1)
    expect(maxEncodedAudienceKeyBytes).toBe(400)
  })

  it.effect("through a whole tick, every key written for accepted events fits, whatever the audience, user and message ids", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(anyKey, fc.string({ minLength: 1, maxLength: 1_000 }), fc.string({ minLength: 1, maxLength: 1_000 }), (key, user, messageId) =>
          Effect.runPromise(Effect.gen(function*() {
            const store = yield* makeStateStoreMemory()
            const { api } = yield* makeMarketoMemory()
            const provide = <A, E>(effect: Effect.Effect<A, E, StateStore | MarketoApi>) =>
              effect.pipe(Effect.provideService(StateStore, store), Effect.provideService(MarketoApi, api))
            const out = Either.getOrThrow(decodeEvents([event(key, user, messageId)], receivedAt))
            if (out.memberships.length === 0) return
            yield* provide(appendInbox(out))
            yield* provide(runTick({ folderName: "Engage Audiences", budget: { callsPerWindow: 50, windowMillis: 20_000 }, deadline: Number.MAX_SAFE_INTEGER }))
            const keys = yield* store.list("")
            expect(keys.some((k) => StateKeys.isAudienceRecord(k))).toBe(true)
            for (const k of keys) expect(bytes(k) + keySuffixBytes).toBeLessThanOrEqual(maxKeyBytes)
          }))
        ),
        { numRuns: 150 }
      )
    ), { timeout: 60_000 })

  it("the longest key of an audience is one of its real keys", () => {
    const key = "vip" as AudienceKey
    expect(StateKeys.longestAudienceKey(key)).toBe("aud/vip/journal/9999999999/999999")
  })
})
