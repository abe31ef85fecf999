// npm run bench:core — fold 1,000,000 membership changes (about 10% of users with two emails) into
// an empty sharded ledger and plan the initial load; then fold and plan 100,000 changes of churn.
// Medians of 5 runs, and the heap growth of the largest single shard step. Ends with one JSON line.
import type { Email } from "../core/Email.js"
import type { AudienceKey } from "../core/Ids.js"
import { emptyShard, foldShard, shardDelta } from "../core/Ledger.js"
import type { LedgerShard } from "../core/LedgerShard.js"
import { MembershipChange } from "../core/MembershipChange.js"
import { planAudience } from "../core/Planner.js"
import { DEFAULT_SHARD_COUNT, groupByShard } from "../core/Sharding.js"

const audience = "bench" as AudienceKey
const runs = Number(process.env["BENCH_RUNS"] ?? 5)
const gc = (globalThis as { gc?: () => void }).gc

const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const change = (user: number, email: string, member: boolean, timestamp: number) =>
  new MembershipChange(
    { audience, audienceClass: "audience", user: `u${user}`, email: email as Email, member, timestamp, messageId: `m${user}-${timestamp}-${email}` },
    { disableValidation: true }
  )

const initialChanges = (): Array<MembershipChange> => {
  const random = mulberry32(42)
  const out: Array<MembershipChange> = []
  for (let user = 0; out.length < 1_000_000; user++) {
    out.push(change(user, `user${user}@example.com`, true, 1))
    if (random() < 0.1 && out.length < 1_000_000) out.push(change(user, `user${user}.work@example.com`, true, 1))
  }
  return out
}

const churnChanges = (): Array<MembershipChange> => {
  const random = mulberry32(7)
  const out: Array<MembershipChange> = []
  for (let i = 0; i < 50_000; i++) out.push(change(Math.floor(random() * 900_000), "", false, 2))
  for (let i = 0; i < 50_000; i++) out.push(change(2_000_000 + i, `new${i}@example.com`, true, 2))
  return out.map((c) => (c.email === "" ? change(Number(c.user.slice(1)), `user${c.user.slice(1)}@example.com`, false, 2) : c))
}

const foldAll = (shards: Map<number, LedgerShard>, changes: ReadonlyArray<MembershipChange>) => {
  // The sync folds into shards it has just decoded, so it owns them: in place.
  for (const [n, group] of groupByShard(changes, DEFAULT_SHARD_COUNT)) shards.set(n, foldShard(shards.get(n) ?? emptyShard(audience, n), group, { inPlace: true }))
}

const markAllSynced = (shards: Map<number, LedgerShard>) => {
  for (const [n, shard] of shards) {
    const emails: Record<string, LedgerShard["emails"][string]> = {}
    for (const [e, r] of Object.entries(shard.emails)) emails[e] = { ...r, synced: true, leadIds: [1 as never] }
    shards.set(n, { ...shard, emails })
  }
}

const plan = (shards: ReadonlyMap<number, LedgerShard>) => {
  const add: Array<{ email: Email; leadIds?: ReadonlyArray<never> }> = []
  const remove: Array<{ email: Email; leadIds?: ReadonlyArray<never> }> = []
  for (const shard of shards.values()) {
    const d = shardDelta(shard, "audience")
    for (const e of d.add) add.push({ email: e })
    for (const e of d.remove) remove.push({ email: e, leadIds: shard.emails[e]!.leadIds as ReadonlyArray<never> })
  }
  const started = performance.now()
  const planned = planAudience({ audience, listName: "bench", folderName: "Engage Audiences", listId: 1 as never, add, remove, pendingImports: [] })
  if (process.env["BENCH_VERBOSE"]) console.log(`  planAudience alone: ${Math.round(performance.now() - started)} ms for ${add.length} adds, ${remove.length} removes`)
  return planned
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const time = <A>(f: () => A): [A, number] => {
  const start = performance.now()
  const a = f()
  return [a, performance.now() - start]
}

const initial = initialChanges()
const churn = churnChanges()
const fold1m: Array<number> = []
const plan1m: Array<number> = []
const churn100k: Array<number> = []
let steps = 0
for (let run = 0; run < runs; run++) {
  gc?.()
  const shards = new Map<number, LedgerShard>()
  fold1m.push(time(() => foldAll(shards, initial))[1])
  const [initialPlan, planMs] = time(() => plan(shards))
  plan1m.push(planMs)
  steps = initialPlan.steps.length
  markAllSynced(shards)
  churn100k.push(time(() => {
    const [, f] = time(() => foldAll(shards, churn))
    const [, p] = time(() => plan(shards))
    if (process.env["BENCH_VERBOSE"]) console.log(`churn fold ${Math.round(f)} ms, plan ${Math.round(p)} ms`)
  })[1])
}

// The heap growth of folding one shard's share of the initial load into an empty shard.
let maxShardStepMb = 0
if (gc !== undefined) {
  for (const [n, group] of groupByShard(initial, DEFAULT_SHARD_COUNT)) {
    gc()
    const before = process.memoryUsage().heapUsed
    const shard = foldShard(emptyShard(audience, n), group)
    const after = process.memoryUsage().heapUsed
    maxShardStepMb = Math.max(maxShardStepMb, (after - before) / 1024 / 1024)
    if (Object.keys(shard.emails).length === 0) throw new Error("empty shard")
  }
}

const figures = {
  fold_1m_ms: Math.round(median(fold1m)),
  plan_1m_ms: Math.round(median(plan1m)),
  churn_100k_ms: Math.round(median(churn100k)),
  max_shard_step_mb: gc === undefined ? null : Number(maxShardStepMb.toFixed(1)),
  initial_plan_steps: steps,
  runs
}
console.log(`fold 1M: ${figures.fold_1m_ms} ms, plan 1M: ${figures.plan_1m_ms} ms, churn 100k fold+plan: ${figures.churn_100k_ms} ms, largest shard step: ${figures.max_shard_step_mb} MB (medians of ${runs})`)
console.log(JSON.stringify(figures))
