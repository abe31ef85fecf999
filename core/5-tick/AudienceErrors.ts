// Recording a failure as the audience's lastError, where the operator looks first. Best effort:
// the failure may be the store itself, and recording it must never fail the tick.
import { Cause, Clock, Effect, Option } from "effect"
import type { AudienceKey } from "../1-events/Ids.js"
import { encodeRecord, newRecord, readRecord } from "../2-ledger/AudienceShards.js"
import { StateStore } from "../ports/StateStore.js"

export const recordAudienceError = Effect.fn("AudienceErrors.record")(function*(
  audience: AudienceKey,
  error: { readonly tag: string; readonly code: string; readonly message: string }
) {
  const write = Effect.gen(function*() {
    const store = yield* StateStore
    const at = yield* Clock.currentTimeMillis
    const record = Option.getOrElse(yield* readRecord(audience), () => newRecord(audience, "audience"))
    const [key, value] = encodeRecord({ ...record, lastError: { ...error, at } })
    yield* store.set(key, value)
  })
  yield* write.pipe(Effect.catchAllCause((cause) =>
    Effect.logWarning("could not record the audience's error").pipe(Effect.annotateLogs({ audience, cause: String(Cause.squash(cause)) }))
  ))
})
