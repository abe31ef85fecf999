// npm run bench:core — fold 1,000,000 membership changes (about 10% of users with two emails) into
// an empty 64-shard ledger and plan the initial load; then fold and plan 100,000 changes of churn
// against it. Medians of BENCH_RUNS runs (default 5), then the heap growth of every single shard
// step. Ends with one JSON line. Deterministic: the data come from a seeded generator.
import type { Email } from "../core/1-events/Email.js"
import type { AudienceKey, LeadId } from "../core/1-events/Ids.js"
import { emptyShard, foldShard, shardDelta } from "../core/2-ledger/Ledger.js"
import type { EmailRecord, LedgerShard } from "../core/2-ledger/LedgerShard.js"
import { MembershipChange } from "../core/1-events/MembershipChange.js"
import { type PlannedEmail, planAudience } from "../core/3-plan/Planner.js"
import { DEFAULT_SHARD_COUNT, groupByShard } from "../core/2-ledger/Sharding.js"

const audience = "bench" as AudienceKey
const runs = Math.max(1, Number(process.env["BENCH_RUNS"] ?? 5))
const verbose = process.env["BENCH_VERBOSE"] !== undefined
const gc = (globalThis as { gc?: () => void }).gc
const INITIAL = 1_000_000
const CHURN = 100_000
const T0 = 1_767_225_600_000 // 2026-01-01T00:00:00Z: event times are fixed, not read from a clock

const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

// Trusted input (the decoder validated it at the edge): skip re-validating a million values.
const change = (user: number, work: boolean, member: boolean, timestamp: number) => {
  const email = work ? `user${user}.work@example.com` : `user${user}@example.com`
  return new MembershipChange(
    { audience, audienceClass: "audience", user: `u${user}`, email: email as Email, member, timestamp, messageId: `m-${timestamp}-${email}` },
    { disableValidation: true }
  )
}

/** The users of the initial load: `work[u]` says whether user u has a second (work) email. */
const initialUsers = (): Uint8Array => {
  const random = mulberry32(42)
  const work = new Uint8Array(INITIAL)
  let changes = 0
  let users = 0
  while (changes < INITIAL) {
    changes++
    if (random() < 0.1 && changes < INITIAL) {
      work[users] = 1
      changes++
    }
    users++
  }
  return work.subarray(0, users)
}

const initialChanges = (work: Uint8Array): Array<MembershipChange> => {
  const out: Array<MembershipChange> = []
  for (let u = 0; u < work.length; u++) {
    out.push(change(u, false, true, T0 + u))
    if (work[u] === 1) out.push(change(u, true, true, T0 + u))
  }
  return out
}

/** Half exits of existing users (every email they hold), half new members. */
const churnChanges = (work: Uint8Array): Array<MembershipChange> => {
  const random = mulberry32(7)
  const out: Array<MembershipChange> = []
  const later = T0 + 86_400_000
  while (out.length < CHURN / 2) {
    const u = Math.floor(random() * work.length)
    out.push(change(u, false, false, later + out.length))
    if (work[u] === 1) out.push(change(u, true, false, later + out.length))
  }
  for (let i = 0; out.length < CHURN; i++) out.push(change(work.length + i, false, true, later + out.length))
  return out
}

const foldAll = (shards: Map<number, LedgerShard>, changes: ReadonlyArray<MembershipChange>) => {
  // As the sync does: it folds into shards it has just decoded and owns, so in place.
  for (const [n, group] of groupByShard(changes, DEFAULT_SHARD_COUNT)) {
    shards.set(n, foldShard(shards.get(n) ?? emptyShard(audience, n), group, { inPlace: true }))
  }
}

/** Stands in for the applied initial load: every email on the list with a known lead id. */
const markAllSynced = (shards: ReadonlyMap<number, LedgerShard>) => {
  let id = 1
  for (const shard of shards.values()) {
    for (const record of Object.values(shard.emails)) {
      const owned = record as { -readonly [K in keyof EmailRecord]: EmailRecord[K] }
      owned.synced = true
      owned.leadIds = [id++ as LeadId]
    }
  }
}

/** The delta of every shard, as the sync collects it, then the plan. */
const plan = (shards: ReadonlyMap<number, LedgerShard>) => {
  const add: Array<PlannedEmail> = []
  const remove: Array<PlannedEmail> = []
  for (const shard of shards.values()) {
    const delta = shardDelta(shard, "audience")
    const planned = (email: Email): PlannedEmail => {
      const leadIds = shard.emails[email]?.leadIds
      return leadIds === undefined ? { email } : { email, leadIds }
    }
    for (const e of delta.add) add.push(planned(e))
    for (const e of delta.remove) remove.push(planned(e))
  }
  return planAudience({ audience, listName: "bench", folderName: "Engage Audiences", add, remove, pendingImports: [] })
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const time = <A>(f: () => A): [A, number] => {
  const start = performance.now()
  const a = f()
  return [a, performance.now() - start]
}
const heapMb = () => process.memoryUsage().heapUsed / 1024 / 1024

const work = initialUsers()
/** One run in its own scope, so nothing of it stays on the heap for the next. */
const runOnce = () => {
  const shards = new Map<number, LedgerShard>()
  let foldMs = 0
  {
    // Only the ledger outlives this block: the churn runs with no stray million changes on the heap.
    const initial = initialChanges(work)
    gc?.()
    foldMs = time(() => foldAll(shards, initial))[1]
  }
  const [initialPlan, planMs] = time(() => plan(shards))
  markAllSynced(shards)
  const churn = churnChanges(work)
  gc?.()
  const [churnPlan, churnMs] = time(() => {
    const [, f] = time(() => foldAll(shards, churn))
    const [p, ms] = time(() => plan(shards))
    if (verbose) console.log(`  churn: fold ${Math.round(f)} ms, delta + plan ${Math.round(ms)} ms`)
    return p
  })
  return { foldMs, planMs, churnMs, initialSteps: initialPlan.steps.length, churnSteps: churnPlan.steps.length }
}

const results: Array<ReturnType<typeof runOnce>> = []
for (let run = 0; run < runs; run++) {
  const r = runOnce()
  results.push(r)
  if (verbose) console.log(`run ${run + 1}: fold 1M ${Math.round(r.foldMs)} ms, plan 1M ${Math.round(r.planMs)} ms, churn ${Math.round(r.churnMs)} ms`)
}

// One shard step at a time, as a tick works: materialise one shard's changes, collect garbage,
// fold them into an empty shard, and read how far the heap grew (everything the fold allocated,
// garbage included); then fold that shard's share of the churn into it the same way, copying.
const stepMb: Array<number> = []
if (gc !== undefined) {
  const initialByShard = new Map<number, Array<number>>()
  const churnByShard = new Map<number, Array<number>>()
  // Compact (user, work, member, timestamp) rows: the changes themselves are rebuilt per shard.
  const rows = (m: Map<number, Array<number>>, changes: ReadonlyArray<MembershipChange>) => {
    for (const [n, group] of groupByShard(changes, DEFAULT_SHARD_COUNT)) {
      m.set(n, group.flatMap((c) => [Number(c.user.slice(1)), c.email.includes(".work@") ? 1 : 0, c.member ? 1 : 0, c.timestamp]))
    }
  }
  rows(initialByShard, initialChanges(work))
  rows(churnByShard, churnChanges(work))
  const build = (r: ReadonlyArray<number>) => {
    const out: Array<MembershipChange> = []
    for (let i = 0; i < r.length; i += 4) out.push(change(r[i]!, r[i + 1] === 1, r[i + 2] === 1, r[i + 3]!))
    return out
  }
  for (let n = 0; n < DEFAULT_SHARD_COUNT; n++) {
    const initial = build(initialByShard.get(n) ?? [])
    gc()
    let before = heapMb()
    let shard = foldShard(emptyShard(audience, n), initial)
    stepMb.push(heapMb() - before)
    const churn = build(churnByShard.get(n) ?? [])
    gc()
    before = heapMb()
    shard = foldShard(shard, churn)
    stepMb.push(heapMb() - before)
    if (Object.keys(shard.emails).length === 0) throw new Error(`shard ${n} is empty`)
  }
}

const figures = {
  fold_1m_ms: Math.round(median(results.map((r) => r.foldMs))),
  plan_1m_ms: Math.round(median(results.map((r) => r.planMs))),
  churn_100k_ms: Math.round(median(results.map((r) => r.churnMs))),
  max_shard_step_mb: stepMb.length === 0 ? null : Number(Math.max(...stepMb).toFixed(1)),
  median_shard_step_mb: stepMb.length === 0 ? null : Number(median(stepMb).toFixed(1)),
  initial_plan_steps: results[0]!.initialSteps,
  churn_plan_steps: results[0]!.churnSteps,
  runs
}
console.log(
  `fold 1M: ${figures.fold_1m_ms} ms, plan 1M: ${figures.plan_1m_ms} ms, churn 100k fold + plan: ${figures.churn_100k_ms} ms ` +
    `(medians of ${runs}); shard step heap growth: max ${figures.max_shard_step_mb} MB, median ${figures.median_shard_step_mb} MB`
)
console.log(JSON.stringify(figures))
