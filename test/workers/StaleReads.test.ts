// The sync over the real KV state store whose KV hides recent writes (as a reader in another
// location sees it): ticks may find state not yet visible, but no list ever loses a member it
// should keep or regains one that left, and the list converges once the writes show.
import { env } from "cloudflare:test"
import { Effect, Either, Layer } from "effect"
import { describe, expect, it } from "vitest"
import * as StaleKvStateStore from "../../adapters/cloudflare/testing/StaleKvStateStore.js"
import { decodeEvents } from "../../core/1-events/EventDecoder.js"
import { appendInbox } from "../../core/2-ledger/Inbox.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import { StateStore } from "../../core/ports/StateStore.js"
import { makeMarketoMemory } from "../../core/ports/MarketoApiMemory.js"
import { runTick } from "../../core/5-tick/Tick.js"

const settings = { folderName: "Engage Audiences", budget: { callsPerWindow: 50, windowMillis: 20_000 }, deadline: Number.MAX_SAFE_INTEGER }
let n = 0
const event = (user: string, email: string, member: boolean) => ({
  type: "identify",
  userId: user,
  messageId: `stale-${++n}`,
  timestamp: new Date(Date.UTC(2026, 10, 20) + n * 1000).toISOString(),
  traits: { email, stale_vip: member },
  context: { personas: { computation_key: "stale_vip" } }
})

describe("stale KV reads", () => {
  it("never make a list lose or regain a member", async () => {
    const stub = env.MARKETO_INSTANCE.get(env.MARKETO_INSTANCE.idFromName(`stale-${crypto.randomUUID()}`))
    const { api, control } = await Effect.runPromise(makeMarketoMemory())
    // Reads that met a version not visible yet: the tick waits for them instead of failing.
    let notVisible = 0
    const seen = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.tapError(effect, (e) => Effect.sync(() => void (e._tag === "StateNotVisible" && notVisible++)))
    const store = Layer.effect(StateStore, Effect.map(StateStore, (s) => ({ ...s, get: (k: string) => seen(s.get(k)), getMany: (ks: ReadonlyArray<string>) => seen(s.getMany(ks)) })))
      .pipe(Layer.provide(StaleKvStateStore.layer(env.STATE, stub, 150)))
    const provide = <A, E>(e: Effect.Effect<A, E, MarketoApi | StateStore>) =>
      e.pipe(Effect.provide(Layer.merge(store, Layer.succeed(MarketoApi, api))))
    const send = (events: ReadonlyArray<unknown>) => Effect.runPromise(provide(appendInbox(Either.getOrThrow(decodeEvents(events, Date.now())))))
    const tick = () => Effect.runPromiseExit(provide(runTick(settings)))
    const members = () => Effect.runPromise(control.members("stale_vip"))
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

    await send([event("a", "a@example.com", true), event("b", "b@example.com", true)])
    for (let i = 0; i < 40 && (await members()).length < 2; i++) {
      await tick()
      await sleep(40)
    }
    expect(await members()).toEqual(["a@example.com", "b@example.com"])

    await send([event("b", "b@example.com", false), event("c", "c@example.com", true)])
    let bRemoved = false
    for (let i = 0; i < 60; i++) {
      await tick()
      const now = await members()
      expect(now).toContain("a@example.com") // never lost
      if (!now.includes("b@example.com")) bRemoved = true
      else expect(bRemoved).toBe(false) // never regained
      if (bRemoved && now.includes("c@example.com")) break
      await sleep(40)
    }
    expect(await members()).toEqual(["a@example.com", "c@example.com"])
    // The hidden writes were really met along the way.
    expect(notVisible).toBeGreaterThan(0)
  }, 30_000)
})
