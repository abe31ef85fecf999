// The audience registry (workers/AudienceAdmission.ts) on Deno KV, what the Durable Object's
// SQLite table is on Cloudflare: one row per key, [...prefix, "audiences", key] = { live,
// removedAt }, the ignored events of each as a u64 sum beside it, and the number of live keys in
// [...prefix, "audience-count"]. Every change of a row rewrites the count in the same atomic
// operation, checked against the count's versionstamp as read: so two ingest requests racing for
// the last of MAX_AUDIENCES cannot both take it, and a removal cannot slip between a read and an
// admission. Ignored counts are plain sums, outside that check.
import { Effect } from "effect"
import { type Admission, type AdmissionRequest, admitOne, type RegistryRow, type Tombstone } from "../../workers/AudienceAdmission.js"
import type { DenoKvService } from "./DenoKv.js"
import { groups } from "./KvBatches.js"
import { KvConflict, kvTry, retryConflicts } from "./KvAtomic.js"
import { KvLimits } from "./KvLimits.js"

interface Row {
  readonly live: boolean
  readonly removedAt: number | null
}

// Each key admitted may write its row and its ignored sum; the count is one more.
const keysPerCommit = Math.floor((KvLimits.mutations - 1) / 2)

export const make = ({ kv, prefix }: DenoKvService) => {
  const countKey: Deno.KvKey = [...prefix, "audience-count"]
  const rowKey = (key: string): Deno.KvKey => [...prefix, "audiences", key]
  const ignoredKey = (key: string): Deno.KvKey => [...prefix, "audience-ignored", key]

  const rows = (keys: ReadonlyArray<string>) =>
    Effect.forEach(groups(keys, KvLimits.getMany), (part) => kvTry("getAudiences", () => kv.getMany<Array<Row>>(part.map(rowKey))), {
      concurrency: 4
    }).pipe(Effect.map((parts) => new Map(parts.flat().flatMap((e) => (e.value === null ? [] : [[String(e.key.at(-1)), e.value] as const])))))

  /** Change rows under the count's check: `step` sees the live count and the rows, answers the writes. */
  const change = <A>(operation: string, keys: ReadonlyArray<string>, step: (live: number, rows: Map<string, Row>) => {
    readonly answer: A
    readonly live: number
    readonly writes: ReadonlyArray<readonly [string, Row]>
    readonly sums: ReadonlyArray<readonly [string, number]>
    readonly resets?: ReadonlyArray<string>
  }) =>
    retryConflicts(operation, Effect.gen(function*() {
      const count = yield* kvTry(operation, () => kv.get<number>(countKey))
      const decided = step(count.value ?? 0, yield* rows(keys))
      if (decided.writes.length === 0 && decided.sums.length === 0) return decided.answer
      const result = yield* kvTry(operation, () => {
        const op = kv.atomic().check(count).set(countKey, decided.live)
        for (const [key, row] of decided.writes) op.set(rowKey(key), row)
        for (const [key, n] of decided.sums) op.sum(ignoredKey(key), BigInt(n))
        for (const key of decided.resets ?? []) op.set(ignoredKey(key), new Deno.KvU64(0n))
        return op.commit()
      })
      if (!result.ok) return yield* new KvConflict()
      return decided.answer
    }))

  const admitGroup = (requests: ReadonlyArray<AdmissionRequest>, maxAudiences: number) =>
    change("admitAudiences", requests.map((r) => r.key), (live, current) => {
      const writes: Array<readonly [string, Row]> = []
      const sums: Array<readonly [string, number]> = []
      const answer = requests.map((request) => {
        const row: RegistryRow | undefined = current.get(request.key)
        const { admission, becomesLive } = admitOne(row, request, live, maxAudiences)
        if (admission.ignored > 0) sums.push([request.key, admission.ignored])
        if (becomesLive) {
          live++
          const next = { live: true, removedAt: admission.removedAt }
          current.set(request.key, next)
          writes.push([request.key, next])
        }
        return admission
      })
      return { answer, live, writes, sums }
    })

  return {
    /** Decide each key's events, in the order given (workers/AudienceAdmission.ts's admitOne). */
    admitAudiences: (requests: ReadonlyArray<AdmissionRequest>, maxAudiences: number): Effect.Effect<Array<Admission>, unknown> =>
      Effect.map(Effect.forEach(groups(requests, keysPerCommit), (part) => admitGroup(part, maxAudiences)), (parts) => parts.flat()),

    /** An audience the admin made (a display name before any event): live, whatever the limit. */
    registerAudience: (key: string) =>
      change("registerAudience", [key], (live, current) => {
        const row = current.get(key)
        if (row?.live === true) return { answer: undefined, live, writes: [], sums: [] }
        return { answer: undefined, live: live + 1, writes: [[key, { live: true, removedAt: row?.removedAt ?? null }]], sums: [] }
      }),

    /** Leave the tombstone of a removal at `at`; with `onlyIfLive`, only for a key held live. */
    buryAudience: (key: string, at: number, onlyIfLive: boolean) =>
      change("buryAudience", [key], (live, current) => {
        const row = current.get(key)
        if (onlyIfLive && row?.live !== true) return { answer: false, live, writes: [], sums: [] }
        return { answer: true, live: row?.live === true ? live - 1 : live, writes: [[key, { live: false, removedAt: at }]], sums: [], resets: [key] }
      }),

    /** Count events the tick's fold ignored. */
    countIgnored: (counts: ReadonlyArray<{ readonly key: string; readonly ignored: number }>) =>
      Effect.forEach(groups(counts.filter((c) => c.ignored > 0), KvLimits.mutations), (part) =>
        kvTry("countIgnored", () => {
          const op = kv.atomic()
          for (const { key, ignored } of part) op.sum(ignoredKey(key), BigInt(ignored))
          return op.commit()
        }), { discard: true }),

    /** Every tombstone, by key. */
    tombstones: Effect.gen(function*() {
      const [all, ignored] = yield* Effect.all([
        kvTry("tombstones", () => Array.fromAsync(kv.list<Row>({ prefix: [...prefix, "audiences"] }))),
        kvTry("tombstones", () => Array.fromAsync(kv.list<Deno.KvU64>({ prefix: [...prefix, "audience-ignored"] })))
      ])
      const counts = new Map(ignored.map((e) => [String(e.key.at(-1)), Number(e.value.value)]))
      return all.flatMap((e): Array<Tombstone> => {
        const key = String(e.key.at(-1))
        return e.value.removedAt === null ? [] : [{ key, removedAt: e.value.removedAt, ignored: counts.get(key) ?? 0, live: e.value.live }]
      })
    })
  }
}
