// The tick's fold reads inbox entries through the StateStore. Entries stored before an audience was
// removed still hold its older events: this store drops them as the entries are read
// (core/Tombstones.ts) and, once the fold has deleted the entries, counts them as ignored. An entry
// with newer events for an audience whose list is still being emptied waits (StateNotVisible, as a
// value KV does not show yet) until that audience is forgotten, so those events start it afresh
// instead of being emptied with it.
import { Effect, Option, Schema } from "effect"
import { AudienceRecordJson } from "../core/2-ledger/AudienceRecord.js"
import type { AudienceKey } from "../core/1-events/Ids.js"
import { InboxEntryJson } from "../core/2-ledger/Inbox.js"
import { StateNotVisible, type StateStoreService } from "../core/ports/StateStore.js"
import { StateKeys } from "../core/2-ledger/StateKeys.js"
import { type RemovedAt, withoutBuried } from "../core/2-ledger/Tombstones.js"

export type IgnoredCounts = ReadonlyArray<{ readonly key: string; readonly ignored: number }>

export const withTombstones = (
  inner: StateStoreService,
  removedAt: RemovedAt,
  countIgnored: (counts: IgnoredCounts) => Effect.Effect<void>
): StateStoreService => {
  if (removedAt.size === 0) return inner
  const quoted = [...removedAt.keys()].map((key) => JSON.stringify(key))
  /** Ignored events per inbox entry, counted once the fold deletes the entry. */
  const pending = new Map<string, ReadonlyMap<AudienceKey, number>>()
  const emptying = new Map<AudienceKey, boolean>()

  const isEmptying = (audience: AudienceKey) =>
    emptying.has(audience)
      ? Effect.succeed(emptying.get(audience)!)
      : Effect.map(inner.get(StateKeys.audience(audience)), (json) => {
        const record = Option.flatMap(json, Schema.decodeUnknownOption(AudienceRecordJson))
        const answer = Option.isSome(record) && record.value.removal === "empty"
        emptying.set(audience, answer)
        return answer
      })

  const filter = (key: string, value: Option.Option<string>) =>
    Effect.gen(function*() {
      if (!key.startsWith(StateKeys.inboxPrefix) || Option.isNone(value)) return value
      // Most entries name no removed audience: they pass without being decoded twice.
      if (!quoted.some((q) => value.value.includes(q))) return value
      const entry = Schema.decodeUnknownOption(InboxEntryJson)(value.value)
      if (Option.isNone(entry)) return value
      const { entry: kept, ignored } = withoutBuried(entry.value, removedAt)
      const newer = new Set(kept.memberships.map((m) => m.audience).filter((a) => removedAt.has(a)))
      for (const audience of newer) {
        if (yield* isEmptying(audience)) return yield* new StateNotVisible({ key })
      }
      if (ignored.size === 0) return value
      pending.set(key, ignored)
      return Option.some(Schema.encodeSync(InboxEntryJson)(kept))
    })

  return {
    ...inner,
    get: (key) => Effect.flatMap(inner.get(key), (value) => filter(key, value)),
    getMany: (keys) =>
      Effect.flatMap(inner.getMany(keys), (values) =>
        Effect.map(
          Effect.forEach([...values], ([key, value]) => Effect.map(filter(key, value), (v) => [key, v] as const)),
          (entries) => new Map(entries) as ReadonlyMap<string, Option.Option<string>>
        )),
    remove: (keys) =>
      Effect.tap(inner.remove(keys), () => {
        const totals = new Map<string, number>()
        for (const key of keys) {
          for (const [audience, n] of pending.get(key) ?? []) totals.set(audience, (totals.get(audience) ?? 0) + n)
          pending.delete(key)
        }
        return totals.size === 0 ? Effect.void : countIgnored([...totals].map(([key, ignored]) => ({ key, ignored })))
      })
  }
}
