// Upserts and lookups shared by the audiences of one tick. Lead ids belong to the instance, not
// to a list: one upsert or lookup of up to 300 emails serves every list that needs those leads,
// so a user entering five audiences costs one upsert, not five. The same upserts carry the lead
// field values, and send the changed values of members already on a list (one upsert per email
// for every list). Only list add/remove calls stay per list. What a shared call learns reaches
// each audience as its first journaled checkpoint (core/5-tick/Tick.ts); a stop before that costs
// the calls again, never a membership.
import { Clock, Effect } from "effect"
import type { Email } from "../1-events/Email.js"
import type { LeadId } from "../1-events/Ids.js"
import { lookupLeads, upsertWithOutcomes } from "../4-apply/LeadCalls.js"
import type { AudienceDelta, PlannedEmail, PlannedFields } from "../3-plan/PlannedEmail.js"
import { batches, callsBesidesAdds, chooseAddPaths, type PlannerOptions } from "../3-plan/Planner.js"
import type { StepEffect } from "../4-apply/StepEffect.js"

export interface SharedLeadsPlan {
  readonly upserts: ReadonlyArray<ReadonlyArray<Email>>
  readonly lookups: ReadonlyArray<ReadonlyArray<Email>>
  /** The values each upserted email is sent with: where audiences disagree, the newest fields. */
  readonly fields: ReadonlyMap<Email, PlannedFields>
}

/** What the shared calls said of each email. `sent`: an upsert carried it (with its fields). */
export type LeadOutcome =
  | { readonly _tag: "Found"; readonly leadIds: ReadonlyArray<LeadId>; readonly sent?: true; readonly created?: true }
  | { readonly _tag: "Refused"; readonly code: string }
  | { readonly _tag: "NoLead" }

export type SharedLeads = ReadonlyMap<Email, LeadOutcome>

const unknown = (e: PlannedEmail) => e.leadIds === undefined || e.leadIds.length === 0

/**
 * Every email of the deltas whose lead ids are unknown, once: adds that their plan would upsert
 * (not those it imports) are upserted, and so are members whose changed fields are to be sent;
 * removals are looked up unless the same email is upserted anyway. At most `maxEmails` in all,
 * adds first; the rest is left to each audience's own plan.
 */
export const planSharedLeads = (
  deltas: ReadonlyArray<AudienceDelta>,
  maxEmails: number,
  /** What each audience's own plan will be told (so the shared calls upsert exactly what it would). */
  optionsFor: (delta: AudienceDelta) => PlannerOptions = () => ({})
): SharedLeadsPlan => {
  const upsert = new Set<Email>()
  const update = new Set<Email>()
  const lookup = new Set<Email>()
  const fields = new Map<Email, PlannedFields>()
  const keepNewest = (e: PlannedEmail) => {
    const known = fields.get(e.email)
    if (e.fields !== undefined && (known === undefined || e.fields.at > known.at)) fields.set(e.email, e.fields)
  }
  for (const delta of deltas) {
    for (const e of chooseAddPaths(delta.add, optionsFor(delta), callsBesidesAdds(delta)).upserted) {
      upsert.add(e.email)
      keepNewest(e)
    }
    for (const e of delta.update ?? []) {
      update.add(e.email)
      keepNewest(e)
    }
    for (const e of delta.remove) if (unknown(e)) lookup.add(e.email)
  }
  const upserts = [...upsert].sort().slice(0, maxEmails)
  const updates = [...update].filter((e) => !upsert.has(e)).sort().slice(0, Math.max(0, maxEmails - upserts.length))
  const all = [...upserts, ...updates]
  const sent = new Set(all)
  const lookups = [...lookup].filter((e) => !sent.has(e)).sort().slice(0, Math.max(0, maxEmails - all.length))
  return { upserts: batches(all), lookups: batches(lookups), fields: new Map([...fields].filter(([e]) => sent.has(e))) }
}

export const sharedCalls = (plan: SharedLeadsPlan) => plan.upserts.length + plan.lookups.length

const record = (outcomes: Map<Email, LeadOutcome>, effects: ReadonlyArray<StepEffect>) => {
  for (const effect of effects) {
    if (effect._tag === "LeadIdsLearned") {
      for (const found of effect.ids) if (found.leadIds.length > 0) outcomes.set(found.email, { _tag: "Found", leadIds: found.leadIds })
    } else if (effect._tag === "EmailsRefused") {
      for (const r of effect.refused) outcomes.set(r.email, { _tag: "Refused", code: r.code })
    } else if (effect._tag === "MembershipConfirmed" && !effect.synced) {
      for (const email of effect.emails) outcomes.set(email, { _tag: "NoLead" })
    }
  }
}

/**
 * Run the shared calls until the deadline. A batch that fails is logged and skipped (each audience
 * then learns its leads itself); a spent quota stops the rest and is returned for the tick to stop on.
 */
export const resolveSharedLeads = Effect.fn("SharedLeads.resolve")(function*(plan: SharedLeadsPlan, deadline: number) {
  const outcomes = new Map<Email, LeadOutcome>()
  const work = [
    ...plan.upserts.map((emails) => ({ kind: "upsert" as const, emails })),
    ...plan.lookups.map((emails) => ({ kind: "lookup" as const, emails }))
  ]
  const fieldsOf = (email: Email) => plan.fields.get(email)
  for (const { emails, kind } of work) {
    if ((yield* Clock.currentTimeMillis) >= deadline) return { outcomes, stop: "deadline" as const }
    const result = yield* Effect.either(
      kind === "upsert" ? upsertWithOutcomes({ emails, fieldsOf }) : Effect.map(lookupLeads({ emails }), (effects) => ({ effects, created: [] }))
    )
    if (result._tag === "Right") {
      record(outcomes, result.right.effects)
      if (kind === "upsert") {
        const created = new Set(result.right.created)
        for (const email of emails) {
          const found = outcomes.get(email)
          if (found?._tag === "Found") outcomes.set(email, { ...found, sent: true, ...(created.has(email) ? { created: true } : {}) })
        }
      }
      continue
    }
    const error = result.left
    yield* Effect.logWarning("shared lead call failed").pipe(Effect.annotateLogs({ kind, emails: emails.length, error: error._tag, code: "code" in error ? error.code : "" }))
    if (error._tag === "BudgetExhausted" || error._tag === "MarketoQuotaExhausted") return { outcomes, stop: "quota" as const }
  }
  return { outcomes, stop: undefined }
})

/**
 * The effects the shared calls have on one audience's delta: its lead ids, refusals, absent leads,
 * and the fields sent (by this audience's digest: the newest values went, so its own are sent too).
 * A member on the list whose lead Marketo had to create is not on the list any more.
 */
export const effectsFor = (delta: AudienceDelta, shared: SharedLeads): ReadonlyArray<StepEffect> => {
  const ids: Array<{ email: Email; leadIds: ReadonlyArray<LeadId> }> = []
  const refused: Array<{ email: Email; code: string }> = []
  const noLead: Array<Email> = []
  const sent: Array<{ email: Email; digest: string }> = []
  const gone: Array<Email> = []
  const markSent = (e: PlannedEmail, outcome: LeadOutcome | undefined) => {
    const carried = outcome?._tag === "Refused" || (outcome?._tag === "Found" && outcome.sent === true)
    if (carried && e.fields !== undefined) sent.push({ email: e.email, digest: e.fields.digest })
  }
  for (const e of delta.add) {
    const outcome = unknown(e) ? shared.get(e.email) : undefined
    if (outcome?._tag === "Found") ids.push({ email: e.email, leadIds: outcome.leadIds })
    else if (outcome?._tag === "Refused") refused.push({ email: e.email, code: outcome.code })
    markSent(e, outcome)
  }
  for (const e of delta.update ?? []) {
    const outcome = shared.get(e.email)
    markSent(e, outcome)
    if (outcome?._tag === "Found" && outcome.created === true) {
      ids.push({ email: e.email, leadIds: outcome.leadIds })
      gone.push(e.email)
    }
  }
  for (const e of delta.remove) {
    const outcome = unknown(e) ? shared.get(e.email) : undefined
    if (outcome?._tag === "Found") ids.push({ email: e.email, leadIds: outcome.leadIds })
    // No lead for the email: it cannot be on the list.
    else if (outcome?._tag === "NoLead") noLead.push(e.email)
  }
  const effects: Array<StepEffect> = []
  if (ids.length > 0) effects.push({ _tag: "LeadIdsLearned", ids })
  if (refused.length > 0) effects.push({ _tag: "EmailsRefused", refused })
  if (noLead.length > 0) effects.push({ _tag: "MembershipConfirmed", emails: noLead, synced: false })
  if (sent.length > 0) effects.push({ _tag: "FieldsSent", sent })
  if (gone.length > 0) effects.push({ _tag: "MembershipConfirmed", emails: gone, synced: false })
  return effects
}

/**
 * The delta once the shared calls' effects are in: lead ids added, refused adds and removals of
 * absent leads dropped, and members whose changed fields were sent no longer to update.
 */
export const withLearned = (delta: AudienceDelta, effects: ReadonlyArray<StepEffect>): AudienceDelta => {
  const ids = new Map<Email, ReadonlyArray<LeadId>>()
  const dropped = new Set<Email>()
  const updated = new Set<Email>()
  for (const effect of effects) {
    if (effect._tag === "LeadIdsLearned") for (const found of effect.ids) ids.set(found.email, found.leadIds)
    else if (effect._tag === "EmailsRefused") for (const r of effect.refused) dropped.add(r.email)
    else if (effect._tag === "MembershipConfirmed") for (const e of effect.emails) dropped.add(e)
    else if (effect._tag === "FieldsSent") for (const e of effect.sent) updated.add(e.email)
  }
  const update = (e: PlannedEmail): PlannedEmail => {
    const known = ids.get(e.email)
    return known === undefined || known.length === 0 ? e : { ...e, leadIds: known }
  }
  return {
    ...delta,
    add: delta.add.filter((e) => !dropped.has(e.email)).map(update),
    remove: delta.remove.filter((e) => !dropped.has(e.email)).map(update),
    ...(delta.update === undefined ? {} : { update: delta.update.filter((e) => !updated.has(e.email) && !dropped.has(e.email)) })
  }
}
