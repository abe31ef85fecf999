// Upserts and lookups shared by the audiences of one tick. Lead ids belong to the instance, not
// to a list: one upsert or lookup of up to 300 emails serves every list that needs those leads,
// so a user entering five audiences costs one upsert, not five. Only list add/remove calls stay
// per list. What a shared call learns reaches each audience as its first journaled checkpoint
// (core/5-tick/Tick.ts); a stop before that costs the calls again, never a membership.
import { Clock, Effect } from "effect"
import type { Email } from "../1-events/Email.js"
import type { LeadId } from "../1-events/Ids.js"
import { lookupLeads, upsertLeads } from "../4-apply/Interpreter.js"
import type { AudienceDelta, PlannedEmail } from "../3-plan/PlannedEmail.js"
import { batches, chooseAddPaths, callsBesidesAdds, type PlannerOptions } from "../3-plan/Planner.js"
import type { StepEffect } from "../4-apply/StepEffect.js"

export interface SharedLeadsPlan {
  readonly upserts: ReadonlyArray<ReadonlyArray<Email>>
  readonly lookups: ReadonlyArray<ReadonlyArray<Email>>
}

/** What the shared calls said of each email. */
export type LeadOutcome =
  | { readonly _tag: "Found"; readonly leadIds: ReadonlyArray<LeadId> }
  | { readonly _tag: "Refused"; readonly code: string }
  | { readonly _tag: "NoLead" }

export type SharedLeads = ReadonlyMap<Email, LeadOutcome>

const unknown = (e: PlannedEmail) => e.leadIds === undefined || e.leadIds.length === 0

/**
 * Every email of the deltas whose lead ids are unknown, once: adds that their plan would upsert
 * (not those it imports) are upserted; removals are looked up unless the same email is upserted
 * anyway. At most `maxEmails` in all; the rest is left to each audience's own plan.
 */
export const planSharedLeads = (
  deltas: ReadonlyArray<AudienceDelta>,
  maxEmails: number,
  /** What each audience's own plan will be told (so the shared calls upsert exactly what it would). */
  optionsFor: (delta: AudienceDelta) => PlannerOptions = () => ({})
): SharedLeadsPlan => {
  const upsert = new Set<Email>()
  const lookup = new Set<Email>()
  for (const delta of deltas) {
    for (const e of chooseAddPaths(delta.add, optionsFor(delta), callsBesidesAdds(delta)).upserted) upsert.add(e.email)
    for (const e of delta.remove) if (unknown(e)) lookup.add(e.email)
  }
  const upserts = [...upsert].sort().slice(0, maxEmails)
  const lookups = [...lookup].filter((e) => !upsert.has(e)).sort().slice(0, Math.max(0, maxEmails - upserts.length))
  return { upserts: batches(upserts), lookups: batches(lookups) }
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
  for (const { emails, kind } of work) {
    if ((yield* Clock.currentTimeMillis) >= deadline) return { outcomes, stop: "deadline" as const }
    const result = yield* Effect.either(kind === "upsert" ? upsertLeads({ emails }) : lookupLeads({ emails }))
    if (result._tag === "Right") {
      record(outcomes, result.right)
      continue
    }
    const error = result.left
    yield* Effect.logWarning("shared lead call failed").pipe(Effect.annotateLogs({ kind, emails: emails.length, error: error._tag, code: "code" in error ? error.code : "" }))
    if (error._tag === "BudgetExhausted" || error._tag === "MarketoQuotaExhausted") return { outcomes, stop: "quota" as const }
  }
  return { outcomes, stop: undefined }
})

/** The effects the shared calls have on one audience's delta: its lead ids, refusals and absent leads. */
export const effectsFor = (delta: AudienceDelta, shared: SharedLeads): ReadonlyArray<StepEffect> => {
  const ids: Array<{ email: Email; leadIds: ReadonlyArray<LeadId> }> = []
  const refused: Array<{ email: Email; code: string }> = []
  const noLead: Array<Email> = []
  for (const e of delta.add) {
    const outcome = unknown(e) ? shared.get(e.email) : undefined
    if (outcome?._tag === "Found") ids.push({ email: e.email, leadIds: outcome.leadIds })
    else if (outcome?._tag === "Refused") refused.push({ email: e.email, code: outcome.code })
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
  return effects
}

/** The delta once the shared calls' effects are in: lead ids added, refused adds and removals of absent leads dropped. */
export const withLearned = (delta: AudienceDelta, effects: ReadonlyArray<StepEffect>): AudienceDelta => {
  const ids = new Map<Email, ReadonlyArray<LeadId>>()
  const dropped = new Set<Email>()
  for (const effect of effects) {
    if (effect._tag === "LeadIdsLearned") for (const found of effect.ids) ids.set(found.email, found.leadIds)
    else if (effect._tag === "EmailsRefused") for (const r of effect.refused) dropped.add(r.email)
    else if (effect._tag === "MembershipConfirmed") for (const e of effect.emails) dropped.add(e)
  }
  const update = (e: PlannedEmail): PlannedEmail => {
    const known = ids.get(e.email)
    return known === undefined || known.length === 0 ? e : { ...e, leadIds: known }
  }
  return {
    ...delta,
    add: delta.add.filter((e) => !dropped.has(e.email)).map(update),
    remove: delta.remove.filter((e) => !dropped.has(e.email)).map(update)
  }
}
