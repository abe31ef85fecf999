// The end of a removed audience: every key of its state goes (its list stays in Marketo).
import { Effect, Option } from "effect"
import type { AudienceKey } from "../1-events/Ids.js"
import { readRecord } from "../2-ledger/AudienceShards.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import { StateStore } from "../ports/StateStore.js"

/** A removed audience whose list is now empty: its state goes (the empty list stays in Marketo). */
export const forgetIfEmptied = Effect.fn("ForgetAudience.forgetIfEmptied")(function*(key: AudienceKey) {
  const record = yield* readRecord(key)
  if (Option.isNone(record) || Object.values(record.value.shards).some((c) => c.synced > 0)) return
  yield* forgetAudience(key)
})

/** Delete every key of an audience: its record, shards, journal, members without email and reconcile. */
export const forgetAudience = Effect.fn("ForgetAudience.forgetAudience")(function*(key: AudienceKey) {
  const store = yield* StateStore
  const own = StateKeys.audience(key)
  const keys = (yield* store.list(`${own}/`)).concat([own])
  // What a reconcile in progress filed, outside the audience's prefix.
  const filed = yield* store.list(StateKeys.reconcileSeenPrefix(key))
  if (filed.length > 0) yield* store.remove(filed)
  yield* store.remove(keys)
  yield* Effect.logInfo("audience forgotten").pipe(Effect.annotateLogs({ audience: key }))
})
