// The three ways of keeping lists right that the sync bench compares, each on its own simulated
// instance: this product (inbox, ledger, scheduler, planner, interpreter: the worker's tick), the
// hosted Segment destination's documented strategy (hourly batches at a phase of the hour of its
// own; a bulk import of the batch's entries, never polled; exits looked up by email 300 at a time,
// then removed 300 at a time), and the per-record strategy of simpler tools (every minute: upsert
// then add, 300 at a time; exits looked up, then removed). Where a scenario gives lead ids as
// known, every strategy gets the same ones (`learnIds`): the baselines then remove those leads by
// id without looking them up.
import { Clock, Effect, Either, Option } from "effect"
import type { Email } from "../../core/1-events/Email.js"
import { decodeEvents } from "../../core/1-events/EventDecoder.js"
import type { LeadId, ListId } from "../../core/1-events/Ids.js"
import { defaultLeadFieldsSetting, parseLeadFieldMapping } from "../../core/1-events/LeadFields.js"
import type { LeadFieldsByEmail } from "../../core/ports/MarketoApi.js"
import { appendInbox } from "../../core/2-ledger/Inbox.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import { RateLimiter } from "../../core/ports/RateLimiter.js"
import { quotaOf, type SchedulerSettings } from "../../core/5-tick/Scheduler.js"
import { runTick, type TickSummary } from "../../core/5-tick/Tick.js"
import { listRecords } from "../../core/5-tick/AudienceScan.js"
import { pendingCount } from "../../core/2-ledger/AudienceRecord.js"
import { drive, type World } from "./SimWorld.js"
import { namesOf, type SimEvent, toSegment, Truth, userOfEmail } from "./SimEvents.js"

export interface Strategy {
  readonly name: string
  /** Events the CDP sends now. */
  readonly deliver: (events: ReadonlyArray<SimEvent>) => Effect.Effect<void, unknown>
  /** Called at every minute; does the strategy's work when it is due. */
  readonly everyMinute: (now: number) => Effect.Effect<void, unknown>
  /** Batches that failed (a spent quota, an error) and were left to be sent again. */
  readonly failures?: { readonly count: number }
  /** Nothing in flight and nothing pending: what the bench waits for after a setup. */
  readonly idle?: Effect.Effect<boolean, unknown>
}

const folderName = "Engage Audiences"
const hour = 3_600_000

export interface OursOptions {
  readonly scheduler?: Partial<SchedulerSettings>
  /** Send the members' names (the worker's default MARKETO_LEAD_FIELDS), or none. */
  readonly fields?: boolean
}

/** The names every strategy sends, when it sends names: firstName and lastName of each email's user. */
const namesFor = (emails: ReadonlyArray<Email>, fields: boolean): LeadFieldsByEmail | undefined =>
  fields ? new Map(emails.map((email) => [email, namesOf(userOfEmail(email))])) : undefined

/** This product: what the worker's cron tick does, on the same core. */
export const ours = (world: World, options: OursOptions = {}): Strategy & { readonly ticks: Array<TickSummary> } => {
  const ticks: Array<TickSummary> = []
  const fields = options.fields ?? true
  const mapping = fields ? Either.getOrThrow(parseLeadFieldMapping(defaultLeadFieldsSetting)) : []
  return {
    name: "ours",
    ticks,
    idle: listRecords().pipe(
      Effect.map((records) => records.every((r) => r.pendingImports.length === 0 && (r.imports?.length ?? 0) === 0 && r.staged === undefined && r.stagedLeft === undefined && pendingCount(r) === 0)),
      Effect.provide(world.services)
    ),
    // As the worker stores them: one inbox entry per ingest request (at most a few thousand events).
    deliver: (events) =>
      Effect.forEach(chunks(events, 5_000), (batch) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => appendInbox(Either.getOrThrow(decodeEvents(batch.map(toSegment), now, mapping)))), { discard: true }).pipe(
        Effect.provide(world.services)
      ),
    everyMinute: (now) =>
      drive(Effect.gen(function*() {
        const status = yield* Effect.flatMap(RateLimiter, (l) => l.status)
        const summary = yield* runTick({
          folderName,
          budget: { callsPerWindow: status.callsPerWindow, windowMillis: status.windowMillis },
          deadline: now + 25_000,
          quota: quotaOf(status),
          ...(options.scheduler === undefined ? {} : { scheduler: options.scheduler }),
          ...(fields ? { leadFields: { send: mapping.map((m) => m.field), update: "on-add" as const } } : {})
        })
        ticks.push(summary)
      }).pipe(Effect.provide(world.services)))
  }
}

/** What a batch-diffing tool knows: the latest word per user, what it last sent per list, and lead ids it was given. */
const diffing = () => {
  const truth = new Truth()
  const dirty = new Map<string, Set<string>>()
  const sent = new Map<string, Set<string>>()
  const listIds = new Map<string, ListId>()
  const leadIds = new Map<string, ReadonlyArray<LeadId>>()
  return {
    listIds,
    leadIds,
    take: (events: ReadonlyArray<SimEvent>) => {
      for (const e of events) {
        truth.apply(e)
        const d = dirty.get(e.audience) ?? new Set<string>()
        dirty.set(e.audience, d)
        for (const email of e.emails) d.add(email.toLowerCase())
      }
    },
    /** Per audience: emails to add and to remove since the last batch. */
    batch: () => {
      const out: Array<{ audience: string; add: Array<Email>; remove: Array<Email> }> = []
      for (const [audience, emails] of dirty) {
        const had = sent.get(audience) ?? new Set<string>()
        const add: Array<Email> = []
        const remove: Array<Email> = []
        for (const email of emails) {
          const want = truth.wants(audience, email)
          if (want && !had.has(email)) add.push(email as Email)
          else if (!want && had.has(email)) remove.push(email as Email)
        }
        if (add.length + remove.length > 0) out.push({ audience, add, remove })
        else dirty.delete(audience)
      }
      return out
    },
    /** The audience's batch went through: counted as sent. A failed one stays to be sent again. */
    commit: (audience: string, add: ReadonlyArray<Email>, remove: ReadonlyArray<Email>) => {
      const had = sent.get(audience) ?? new Set<string>()
      sent.set(audience, had)
      for (const e of add) had.add(e)
      for (const e of remove) had.delete(e)
      dirty.delete(audience)
    }
  }
}

/** The batches of one run, each audience committed when its calls succeed; failures are counted and retried later. */
const sendBatches = (
  state: ReturnType<typeof diffing>,
  failures: { count: number },
  send: (listId: ListId, add: ReadonlyArray<Email>, remove: ReadonlyArray<Email>) => Effect.Effect<void, unknown, MarketoApi>
) =>
  Effect.gen(function*() {
    for (const { add, audience, remove } of state.batch()) {
      const ok = yield* ensureList(state.listIds, audience).pipe(
        Effect.flatMap((listId) => send(listId, add, remove)),
        Effect.as(true),
        Effect.catchAll(() => Effect.sync(() => failures.count++).pipe(Effect.as(false)))
      )
      if (ok) state.commit(audience, add, remove)
    }
  })

const chunks = <A>(items: ReadonlyArray<A>, size = 300): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const ensureList = (listIds: Map<string, ListId>, audience: string) =>
  Effect.gen(function*() {
    const known = listIds.get(audience)
    if (known !== undefined) return known
    const api = yield* MarketoApi
    const [folder] = yield* api.findFolders(folderName)
    const list = yield* api.createStaticList(audience, folder!.id).pipe(
      Effect.catchIf((e) => e._tag === "MarketoRejected" && e.code === "709", () =>
        Effect.map(api.findStaticList(audience), (l) => Option.getOrThrow(l)))
    )
    listIds.set(audience, list.id)
    return list.id
  })

/** Exits: look up the emails whose lead ids it was not given (300 per call), remove every lead (300 per call). */
const removeByLookup = (listId: ListId, emails: ReadonlyArray<Email>, known: ReadonlyMap<string, ReadonlyArray<LeadId>> = new Map()) =>
  Effect.gen(function*() {
    const api = yield* MarketoApi
    const ids: Array<LeadId> = emails.flatMap((e) => known.get(e) ?? [])
    for (const batch of chunks(emails.filter((e) => !known.has(e)))) {
      const found = yield* api.lookupLeads(batch)
      ids.push(...found.flatMap((f) => f.leadIds))
    }
    for (const idBatch of chunks(ids)) yield* api.removeFromList(listId, idBatch)
  })

/** Lead ids a baseline is given (the same ones `learnIds` gives ours), by lower-case email. */
export interface KnowsLeadIds {
  readonly learnIds: (ids: ReadonlyMap<string, ReadonlyArray<LeadId>>) => void
}

/**
 * Segment's hosted destination: hourly, import (with the names as columns) without polling, exits
 * by lookup + delete. Its run comes `phaseMinutes` into each hour of the simulation, a phase of its
 * own, not ours.
 */
export const segmentHourly = (world: World, phaseMinutes = 0, fields = true): Strategy & KnowsLeadIds & { readonly failures: { count: number } } => {
  const state = diffing()
  const failures = { count: 0 }
  return {
    name: "segment_hourly",
    failures,
    learnIds: (ids) => ids.forEach((v, k) => state.leadIds.set(k, v)),
    deliver: (events) => Effect.sync(() => state.take(events)),
    everyMinute: (now) =>
      (now - world.start - phaseMinutes * 60_000) % hour !== 0 ? Effect.void : drive(sendBatches(state, failures, (listId, add, remove) =>
        Effect.gen(function*() {
          const api = yield* MarketoApi
          const names = namesFor(add, fields)
          if (add.length > 0) yield* (names === undefined ? api.importLeads(listId, add) : api.importLeads(listId, add, names))
          yield* removeByLookup(listId, remove, state.leadIds)
        })).pipe(Effect.provide(world.services)))
  }
}

/** Simpler tools: every minute, upsert (with the names) then add (300 at a time); exits by lookup + remove. */
export const perRecord = (world: World, fields = true): Strategy & KnowsLeadIds & { readonly failures: { count: number } } => {
  const state = diffing()
  const failures = { count: 0 }
  return {
    name: "per_record",
    failures,
    learnIds: (ids) => ids.forEach((v, k) => state.leadIds.set(k, v)),
    deliver: (events) => Effect.sync(() => state.take(events)),
    everyMinute: () =>
      drive(sendBatches(state, failures, (listId, add, remove) =>
        Effect.gen(function*() {
          const api = yield* MarketoApi
          for (const batch of chunks(add)) {
            const names = namesFor(batch, fields)
            const outcomes = yield* (names === undefined ? api.upsertLeads(batch) : api.upsertLeads(batch, names))
            const ids = outcomes.flatMap((o) => (o.status === "skipped" ? [] : [o.leadId]))
            if (ids.length > 0) yield* api.addToList(listId, ids)
          }
          yield* removeByLookup(listId, remove, state.leadIds)
        })).pipe(Effect.provide(world.services)))
  }
}
