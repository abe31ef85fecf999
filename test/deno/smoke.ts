// Runs the pure core under Deno: decode Segment events, fold them into ledger shards, plan, and
// sync against the in-memory ports. Exits non-zero on any mismatch. Proof the core is runtime-neutral.
import { Effect, Either } from "effect"
import { decodeEventsText } from "../../core/EventDecoder.ts"
import { emptyShard, foldShard, shardDelta } from "../../core/Ledger.ts"
import { planAudience } from "../../core/Planner.ts"
import { planCalls } from "../../core/CostModel.ts"
import { appendInbox } from "../../core/Inbox.ts"
import { runTick } from "../../core/Sync.ts"
import { MarketoApi } from "../../core/ports/MarketoApi.ts"
import { makeMarketoMemory } from "../../core/ports/MarketoApiMemory.ts"
import { StateStore } from "../../core/ports/StateStore.ts"
import type { AudienceKey } from "../../core/Ids.ts"

const check = (name: string, ok: boolean, detail: unknown) => {
  if (!ok) throw new Error(`deno smoke: ${name} failed: ${JSON.stringify(detail)}`)
  console.log(`ok - ${name}`)
}

const body = JSON.stringify({
  batch: [
    { type: "identify", userId: "u1", messageId: "m1", timestamp: "2026-11-20T10:00:00Z", traits: { email: "Ada@Example.com", vip: true }, context: { personas: { computation_key: "vip" } } },
    { type: "track", event: "Audience Entered", userId: "u2", messageId: "m2", timestamp: "2026-11-20T10:01:00Z", properties: { vip: true }, context: { traits: { email: ["grace@example.com", "g@work.example.com"] }, personas: { computation_key: "vip" } } },
    { type: "identify", userId: "u3", messageId: "m3", timestamp: "2026-11-20T10:02:00Z", traits: { vip: true }, context: { personas: { computation_key: "vip" } } }
  ]
})

const decoded = Either.getOrThrow(decodeEventsText(body, 0))
check("decode", decoded.accepted === 3 && decoded.changes.length === 3 && decoded.withoutEmail.length === 1, decoded)

const shard = foldShard(emptyShard("vip" as AudienceKey, 0), decoded.changes)
const delta = shardDelta(shard, "audience")
check("fold", delta.add.join() === "ada@example.com,g@work.example.com,grace@example.com", delta)

const plan = planAudience({ audience: "vip" as AudienceKey, listName: "vip", folderName: "Engage Audiences", add: delta.add.map((email) => ({ email })), remove: [], pendingImports: [] })
check("plan", planCalls(plan) === 4, plan.steps.map((s) => s._tag))

const members = await Effect.runPromise(Effect.gen(function*() {
  const { api, control } = yield* makeMarketoMemory()
  const store = yield* StateStore.makeMemory()
  const program = Effect.gen(function*() {
    yield* appendInbox(decoded)
    yield* runTick({ folderName: "Engage Audiences", budget: { callsPerWindow: 50, windowMillis: 20_000 }, deadline: Number.MAX_SAFE_INTEGER })
  })
  yield* program.pipe(Effect.provideService(MarketoApi, api), Effect.provideService(StateStore, store))
  return yield* control.members("vip")
}))
check("sync", members.join() === "ada@example.com,g@work.example.com,grace@example.com", members)
console.log("deno smoke: 4 passed, 0 failed")
