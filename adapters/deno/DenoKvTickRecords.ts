// What each tick did, on Deno KV, as the Durable Object's `ticks` table is on Cloudflare: one
// record per tick under [...prefix, "ticks", at, id], expiring after a day (Deno KV deletes it),
// read back newest first up to core/5-tick/TickOutcome.ts's limit.
import { Effect } from "effect"
import { maxTickRecords, tickHistoryMillis, type TickRecord } from "../../core/5-tick/TickOutcome.js"
import type { DenoKvService } from "./DenoKv.js"
import { kvTry } from "./KvAtomic.js"

export const make = ({ kv, prefix }: DenoKvService) => ({
  recordTick: (record: TickRecord) =>
    kvTry("recordTick", () => kv.set([...prefix, "ticks", record.at, crypto.randomUUID()], record, { expireIn: tickHistoryMillis })).pipe(Effect.asVoid),

  /** The last day's ticks, oldest first. */
  tickHistory: Effect.gen(function*() {
    const since = Date.now() - tickHistoryMillis
    const entries = yield* kvTry("tickHistory", () =>
      Array.fromAsync(kv.list<TickRecord>({ prefix: [...prefix, "ticks"], start: [...prefix, "ticks", since] }, { reverse: true, limit: maxTickRecords })))
    return entries.map((e) => e.value).reverse()
  })
})
