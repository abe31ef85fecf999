// npm run bench:plan — Marketo calls the planner uses per scenario, beside the lower bound and
// beside Segment's documented strategy (one bulk import per 10 MB, never polled; removals: a GET
// lookup of 300 emails in the URL, then a delete of 300). Ends with one JSON line.
import { lowerBound, planCalls } from "../core/3-plan/CostModel.js"
import type { Email } from "../core/1-events/Email.js"
import type { AudienceKey, LeadId, ListId } from "../core/1-events/Ids.js"
import { chunkEmailsByBytes } from "../core/3-plan/ImportFiles.js"
import { emptyShard, foldShard, shardDelta } from "../core/2-ledger/Ledger.js"
import { MembershipChange } from "../core/1-events/MembershipChange.js"
import { DEFAULT_SHARD_COUNT, groupByShard } from "../core/2-ledger/Sharding.js"
import { type AudienceDelta, planAudience, type PlannedEmail } from "../core/3-plan/Planner.js"

const emails = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com` as Email)
const known = (es: ReadonlyArray<Email>): Array<PlannedEmail> => es.map((email, i) => ({ email, leadIds: [(i + 1) as LeadId] }))
const unknown = (es: ReadonlyArray<Email>): Array<PlannedEmail> => es.map((email) => ({ email }))
const delta = (over: Partial<AudienceDelta>): AudienceDelta => ({
  audience: "bench" as AudienceKey, listName: "bench", folderName: "Engage Audiences", listId: 1 as ListId, add: [], remove: [], pendingImports: [], ...over
})

/** 10,000 users enter and exit before the tick: folded through the real ledger, the delta is empty. */
function enterExitDelta() {
  const changes = emails(10_000, "flicker").flatMap((email, i) => [
    new MembershipChange({ audience: "bench" as AudienceKey, audienceClass: "audience", user: `u${i}`, email, member: true, timestamp: 1, messageId: `in${i}` }),
    new MembershipChange({ audience: "bench" as AudienceKey, audienceClass: "audience", user: `u${i}`, email, member: false, timestamp: 2, messageId: `out${i}` })
  ])
  const add: Array<Email> = []
  const remove: Array<Email> = []
  for (const [n, group] of groupByShard(changes, DEFAULT_SHARD_COUNT)) {
    const d = shardDelta(foldShard(emptyShard("bench" as AudienceKey, n), group), "audience")
    add.push(...d.add)
    remove.push(...d.remove)
  }
  return { add, remove }
}

const segmentCalls = (d: AudienceDelta) => {
  const newList = d.listId === undefined ? 2 : 0
  const imports = d.add.length === 0 ? 0 : chunkEmailsByBytes(d.add.map((e) => e.email)).length
  return newList + imports + 2 * Math.ceil(d.remove.length / 300)
}

const { listId: _l, ...newList } = delta({})
const scenarios: Record<string, AudienceDelta> = {
  initial_load_100k: { ...newList, add: unknown(emails(100_000, "user")) },
  churn_2pct_ids_known: delta({ add: unknown(emails(1_000, "new")), remove: known(emails(1_000, "old")) }),
  churn_2pct_ids_unknown: delta({ add: unknown(emails(1_000, "new")), remove: unknown(emails(1_000, "old")) }),
  mass_exit_50k_ids_known: delta({ remove: known(emails(50_000, "old")) }),
  mass_exit_50k_ids_unknown: delta({ remove: unknown(emails(50_000, "old")) }),
  enter_exit_10k_same_tick: delta({ add: unknown(enterExitDelta().add), remove: unknown(enterExitDelta().remove) })
}

const results: Record<string, { calls: number; lower_bound: number; segment_calls: number }> = {}
console.log("scenario                         planner  lower bound  Segment")
for (const [name, d] of Object.entries(scenarios)) {
  const r = { calls: planCalls(planAudience(d)), lower_bound: lowerBound(d), segment_calls: segmentCalls(d) }
  results[name] = r
  console.log(`${name.padEnd(32)} ${String(r.calls).padStart(7)}  ${String(r.lower_bound).padStart(11)}  ${String(r.segment_calls).padStart(7)}`)
}
const big = { ...newList, add: unknown(emails(1_000_000, "user")) }
const times: Array<number> = []
for (let i = 0; i < 5; i++) {
  const start = performance.now()
  planAudience(big)
  times.push(performance.now() - start)
}
const plan1m = Math.round([...times].sort((a, b) => a - b)[2]!)
console.log(`plan of a 1,000,000-email initial load: ${plan1m} ms (median of 5)`)
console.log(JSON.stringify({ scenarios: results, plan_1m_ms: plan1m }))
