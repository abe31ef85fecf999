// Runs the pure core under Deno, offline, with modules from node_modules: decode Segment events,
// fold them into a ledger shard, plan, and sync against the in-memory ports. Proof that the core
// is runtime-neutral. Exits non-zero when any step fails.
//
// Adding a step: one `await step("name", () => { ...; return check(condition, detail) })` block.
// Steps run in order and may use what earlier steps assigned.
import { Effect, Either } from "effect"
import { makeStateStoreMemory } from "../../core/ports/StateStoreMemory.ts"
import { planCalls } from "../../core/3-plan/CostModel.ts"
import { normalizeEmail } from "../../core/1-events/EmailNormalizer.ts"
import { changesOf, type DecodedEvents, decodeEvents, decodeEventsText, withoutEmailOf } from "../../core/1-events/EventDecoder.ts"
import type { AudienceKey } from "../../core/1-events/Ids.ts"
import { appendInbox } from "../../core/2-ledger/Inbox.ts"
import { emptyShard, foldShard, type ShardDelta, shardDelta } from "../../core/2-ledger/Ledger.ts"
import type { Plan } from "../../core/3-plan/Plan.ts"
import { planAudience } from "../../core/3-plan/Planner.ts"
import { MarketoApi } from "../../core/ports/MarketoApi.ts"
import { makeMarketoMemory } from "../../core/ports/MarketoApiMemory.ts"
import { StateStore } from "../../core/ports/StateStore.ts"
import { runTick } from "../../core/5-tick/Tick.ts"
import brokenEvents from "../core/1-events/fixtures/segment/broken-events.json" with { type: "json" }
import trackBatch from "../core/1-events/fixtures/segment/track-batch.json" with { type: "json" }

let passed = 0
const failed: Array<string> = []

/** A failed check: its detail is printed as JSON. */
class Mismatch {
  constructor(readonly detail: unknown) {}
}
const check = (ok: boolean, detail: unknown): void => {
  if (!ok) throw new Mismatch(detail)
}

const step = async (name: string, run: () => void | Promise<void>): Promise<void> => {
  try {
    await run()
    passed++
    console.log(`ok - ${name}`)
  } catch (error) {
    failed.push(name)
    const detail = error instanceof Mismatch ? JSON.stringify(error.detail) : error instanceof Error ? error.stack ?? error.message : String(error)
    console.log(`not ok - ${name}: ${detail}`)
  }
}

const receivedAt = Date.parse("2026-11-21T00:00:00Z")
const vip = "vip" as AudienceKey
const body = JSON.stringify({
  batch: [
    { type: "identify", userId: "u1", messageId: "m1", timestamp: "2026-11-20T10:00:00Z", traits: { email: "Ada@Example.com", vip: true }, context: { personas: { computation_key: "vip" } } },
    { type: "track", event: "Audience Entered", userId: "u2", messageId: "m2", timestamp: "2026-11-20T10:01:00Z", properties: { vip: true }, context: { traits: { email: ["grace@example.com", "g@work.example.com"] }, personas: { computation_key: "vip" } } },
    { type: "identify", userId: "u3", messageId: "m3", timestamp: "2026-11-20T10:02:00Z", traits: { vip: true }, context: { personas: { computation_key: "vip" } } }
  ]
})
const expectedEmails = "ada@example.com,g@work.example.com,grace@example.com"

let decoded: DecodedEvents | undefined
let delta: ShardDelta | undefined
let plan: Plan | undefined

await step("normalise emails", () => {
  check(Either.getOrUndefined(normalizeEmail("  Ada@Example.COM ")) === "ada@example.com", normalizeEmail("  Ada@Example.COM "))
  check(Either.isLeft(normalizeEmail("zoë@example.com")), normalizeEmail("zoë@example.com"))
})

await step("decode the Segment track batch fixture", () => {
  const out = Either.getOrThrow(decodeEvents(trackBatch, receivedAt))
  const summary = changesOf(out).map((c) => `${c.audience}/${c.user}/${c.email}/${c.member}/${c.externalListId ?? "-"}`)
  check(
    out.events === 4 && out.accepted === 4 && out.rejected.length === 0 && withoutEmailOf(out).length === 1 &&
      summary.join() === "first_time_shopper/u123/ada@example.com/true/-,first_time_shopper/u456/grace@example.com/false/-," +
          "welcome_step_1/u123/ada@example.com/true/1042,welcome_step_1/u123/ada.work@example.com/true/1042",
    { summary, rejected: out.rejected }
  )
})

await step("reject broken events by index, keep the valid ones", () => {
  const out = Either.getOrThrow(decodeEvents(brokenEvents, receivedAt))
  const second = out.rejected.find((r) => r.index === 2)
  check(
    out.events === 13 && out.accepted === 2 && second?.reason === "membership traits.vip must be a boolean, got \"yes\"",
    { accepted: out.accepted, rejected: out.rejected }
  )
  check(Either.isLeft(decodeEventsText("{nope", receivedAt)), "a body that is not JSON was accepted")
})

await step("decode a text body", () => {
  decoded = Either.getOrThrow(decodeEventsText(body, receivedAt))
  check(decoded.accepted === 3 && changesOf(decoded).length === 3 && withoutEmailOf(decoded).length === 1, decoded)
})

await step("fold into a ledger shard", () => {
  if (decoded === undefined) throw new Error("needs the decoded body")
  delta = shardDelta(foldShard(emptyShard(vip, 0), changesOf(decoded)), "audience")
  check(delta.add.join() === expectedEmails && delta.remove.length === 0, delta)
})

await step("plan the audience", () => {
  if (delta === undefined) throw new Error("needs the shard delta")
  plan = planAudience({ audience: vip, listName: "vip", folderName: "Engage Audiences", add: delta.add.map((email) => ({ email })), remove: [], pendingImports: [] })
  check(planCalls(plan) === 4, plan.steps.map((s) => s._tag))
})

await step("sync through the in-memory ports", async () => {
  if (decoded === undefined) throw new Error("needs the decoded body")
  const events = decoded
  const members = await Effect.runPromise(Effect.gen(function*() {
    const { api, control } = yield* makeMarketoMemory()
    const store = yield* makeStateStoreMemory()
    yield* Effect.gen(function*() {
      yield* appendInbox(events)
      yield* runTick({ folderName: "Engage Audiences", budget: { callsPerWindow: 50, windowMillis: 20_000 }, deadline: Number.MAX_SAFE_INTEGER })
    }).pipe(Effect.provideService(MarketoApi, api), Effect.provideService(StateStore, store))
    return yield* control.members("vip")
  }))
  check(members.join() === expectedEmails, members)
})

console.log(`deno: ${passed} passed, ${failed.length} failed${failed.length > 0 ? ` (${failed.join(", ")})` : ""}`)
if (failed.length > 0) Deno.exit(1)
