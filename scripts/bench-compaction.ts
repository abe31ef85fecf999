// npm run bench:compaction — what a settled record costs while it waits in a shard's pending
// index, against what the compaction that moves it into the base costs (core/2-ledger/PendingIndex.ts).
//
// A shard of `--shard-size` members (default 21,000, the size of a shard half way through a
// 10,000,000-member load) is written as base lines; its index holds 700 records in an import and a
// growing number of settled ones (members confirmed on the list since the base was written). For
// each, medians of BENCH_RUNS (default 21) runs of:
//   - one pass over the index: JSON.parse and JSON.stringify of its text, as a fold or a flush of
//     the shard does it (a delta parses it too);
//   - the compaction: the base read as lines, the index spliced in, the filter of its emails and
//     the new index encoded (`splicedEntries`), as the flush does it.
// Storage reads and writes are not in either figure. Ends with one JSON line.
import { Effect } from "effect"
import type { AudienceKey } from "../core/1-events/Ids.js"
import { decodeStoredBase } from "../core/2-ledger/AudienceShards.js"
import { encodeBaseLines } from "../core/2-ledger/BaseLines.js"
import type { EmailRecord, LedgerShard } from "../core/2-ledger/LedgerShard.js"
import type { ImportRef } from "../core/2-ledger/ImportsInFlight.js"
import { splicedEntries } from "../core/2-ledger/PendingIndex.js"
import { median } from "./bench/TickAudience.js"

const sizeArg = process.argv.indexOf("--shard-size")
const shardSize = Number(sizeArg >= 0 ? process.argv[sizeArg + 1] : 21_000)
if (!Number.isInteger(shardSize) || shardSize < 1_000) throw new Error("--shard-size takes a whole number of at least 1000")
const runs = Math.max(1, Number(process.env["BENCH_RUNS"] ?? 21))
const importing = 700
const T0 = 1_796_000_000_000 // fixed event times, not read from a clock
const audience = "bench_vip" as AudienceKey

const record = (u: number, settled: boolean): EmailRecord => ({
  holders: [{ user: `u${u}`, member: true, timestamp: T0 + u, messageId: `m-${T0 + u}-${u}` }],
  synced: settled,
  // In a staged file (a negative reference), as the load's rows are until its import is confirmed.
  ...(settled ? {} : { importing: -15 as ImportRef })
})
const emails = (from: number, count: number, settled: boolean): Record<string, EmailRecord> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`user${from + i}@example.com`, record(from + i, settled)]))

const time = (work: () => unknown): number => {
  const times: Array<number> = []
  for (let r = 0; r < runs; r++) {
    const start = performance.now()
    work()
    times.push(performance.now() - start)
  }
  return median(times)
}

const rows: Array<{ settled: number; index_mb: number; pass_ms: number; compaction_ms: number }> = []
for (const settled of [500, 1_000, 2_000, 4_000, 8_000]) {
  const baseSize = shardSize - settled - importing
  const baseText = encodeBaseLines({ audience, shard: 7, emails: emails(0, baseSize, true) })
  const index: LedgerShard = {
    audience,
    shard: 7,
    emails: { ...emails(baseSize, settled, true), ...emails(baseSize + settled, importing, false) },
    size: shardSize
  }
  const indexText = JSON.stringify(index)
  const pass = time(() => JSON.stringify(JSON.parse(indexText)))
  const compaction = time(() => splicedEntries(audience, Effect.runSync(decodeStoredBase(baseText, "base")), JSON.parse(indexText) as LedgerShard, "audience"))
  rows.push({ settled, index_mb: Math.round(indexText.length / 1e4) / 100, pass_ms: Math.round(pass * 10) / 10, compaction_ms: Math.round(compaction * 10) / 10 })
  console.log(`${settled} settled: index ${(indexText.length / 1e6).toFixed(2)} MB, one pass ${pass.toFixed(1)} ms, compaction ${compaction.toFixed(1)} ms (base ${(baseText.length / 1e6).toFixed(2)} MB)`)
}
// A settled record's cost per pass, from the largest index less the smallest (the 700 importing
// records and the fixed costs cancel out).
const first = rows[0]!
const last = rows[rows.length - 1]!
const perRecordUs = ((last.pass_ms - first.pass_ms) / (last.settled - first.settled)) * 1000
const compactionMs = median(rows.map((r) => r.compaction_ms))
console.log(JSON.stringify({ shard_size: shardSize, runs, rows, settled_record_pass_us: Math.round(perRecordUs * 100) / 100, compaction_ms: compactionMs }))
