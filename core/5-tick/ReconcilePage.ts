// One page of a reconcile's reading: one `listMembers` call (300 members), the members filed by
// bucket under the run, and the run's next token and counts written in the same write; the lead
// ids of members without a usable email go with it, and the next step removes them from the list
// by lead id. Nothing of the ledger is read or written here, so a page holds only itself; a stop
// before the write reads the same page again (its keys are the same).
import { Effect, Either, Schema } from "effect"
import { normalizeEmail } from "../1-events/EmailNormalizer.js"
import type { AudienceKey, LeadId } from "../1-events/Ids.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import { MarketoApi } from "../ports/MarketoApi.js"
import { StateStore } from "../ports/StateStore.js"
import { bucketOf } from "./ReconcileBuckets.js"
import { type ReconcileRun, runEntry, SeenEntry } from "./ReconcileRun.js"

/** The members without a usable email the last page found, removed from the list by lead id. */
export const removeStrays = Effect.fn("Reconcile.removeStrays")(function*(key: AudienceKey, run: ReconcileRun) {
  const api = yield* MarketoApi
  const store = yield* StateStore
  const strays = run.removing ?? []
  for (let i = 0; i < strays.length; i += MarketoLimits.batchSize) {
    yield* api.removeFromList(run.listId, strays.slice(i, i + MarketoLimits.batchSize))
  }
  const calls = Math.ceil(strays.length / MarketoLimits.batchSize)
  const { removing: _, ...rest } = run
  const next: ReconcileRun = { ...rest, calls: run.calls + calls }
  yield* store.set(...runEntry(key, next))
  return { run: next, held: strays.length, calls }
})

export interface PageRead {
  readonly run: ReconcileRun
  /** Members this step held: the page. */
  readonly held: number
  readonly calls: number
}

export const readPage = Effect.fn("Reconcile.readPage")(function*(key: AudienceKey, run: ReconcileRun) {
  const api = yield* MarketoApi
  const store = yield* StateStore
  const page = yield* api.listMembers(run.listId, run.token)
  const calls = 1
  const filed = new Map<number, Array<readonly [string, number]>>()
  const strays: Array<LeadId> = []
  for (const member of page.members) {
    const email = member.email === null ? Either.left("no email") : normalizeEmail(member.email)
    if (Either.isLeft(email)) {
      strays.push(member.leadId)
      continue
    }
    const bucket = bucketOf(email.right, run.buckets)
    const entries = filed.get(bucket)
    if (entries === undefined) filed.set(bucket, [[email.right, member.leadId]])
    else entries.push([email.right, member.leadId])
  }
  const token = page.members.length === 0 ? undefined : page.nextPageToken
  const { token: _, ...rest } = run
  const next: ReconcileRun = {
    ...rest,
    ...(strays.length === 0 ? {} : { removing: strays }),
    ...(token === undefined ? { phase: "sweep" } : { token }),
    page: run.page + 1,
    filed: [...new Set([...run.filed, ...filed.keys()])].sort((a, b) => a - b),
    membersRead: run.membersRead + page.members.length,
    calls: run.calls + calls,
    strays: run.strays + strays.length
  }
  const writes: Array<readonly [string, string]> = [...filed].map(([bucket, entries]) =>
    [StateKeys.reconcileSeen(key, run.run, bucket, run.page), Schema.encodeSync(SeenEntry)(entries)]
  )
  yield* store.setMany([...writes, runEntry(key, next)])
  return { run: next, held: page.members.length, calls } satisfies PageRead
})
