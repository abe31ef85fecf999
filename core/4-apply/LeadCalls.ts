// The lead calls a step makes by email: lookups, and upserts that carry the emails' lead field
// values. Plan steps use them (core/4-apply/Interpreter.ts), and so do the upserts and lookups a
// tick shares between its audiences (core/5-tick/SharedLeads.ts). Per-record answers become
// effects; Marketo's lead partition codes, which concern the whole call, fail it.
import { Effect } from "effect"
import type { Email } from "../1-events/Email.js"
import type { LeadId } from "../1-events/Ids.js"
import type { PlannedFields } from "../3-plan/PlannedEmail.js"
import { MarketoRejected } from "../marketo/MarketoErrors.js"
import { type LeadFieldsByEmail, MarketoApi, type UpsertOutcome } from "../ports/MarketoApi.js"
import type { StepEffect } from "./StepEffect.js"

const firstCode = (reasons: ReadonlyArray<{ readonly code: string }> | undefined) => reasons?.[0]?.code ?? "unknown"

/** The emails of a lead step: plan steps, or a batch shared by the audiences of a tick (core/5-tick/SharedLeads.ts). */
export interface LeadBatch {
  readonly emails: ReadonlyArray<Email>
  /** The lead field values each email's lead is sent with. */
  readonly fieldsOf?: (email: Email) => PlannedFields | undefined
}

/** The values to send, by email (only emails with a value), or nothing. */
export const fieldsByEmail = (emails: ReadonlyArray<Email>, fieldsOf: LeadBatch["fieldsOf"]): LeadFieldsByEmail | undefined => {
  if (fieldsOf === undefined) return undefined
  const out = new Map<Email, Readonly<Record<string, string>>>()
  for (const email of emails) {
    const values = fieldsOf(email)?.values
    if (values !== undefined && Object.keys(values).length > 0) out.set(email, values)
  }
  return out.size === 0 ? undefined : out
}

/** The checkpoint of a send: every email whose stored fields went (or were judged) with it. */
export const fieldsSent = (emails: ReadonlyArray<Email>, fieldsOf: LeadBatch["fieldsOf"]): Array<StepEffect> => {
  const sent: Array<{ email: Email; digest: string }> = []
  if (fieldsOf !== undefined) {
    for (const email of emails) {
      const fields = fieldsOf(email)
      if (fields !== undefined) sent.push({ email, digest: fields.digest })
    }
  }
  return sent.length === 0 ? [] : [{ _tag: "FieldsSent", sent }]
}

/**
 * Marketo's lead partition codes: 1008 (the API user may not write that partition) and 1009 (the
 * instance has partitions and none was named). They concern every lead of the call, so they are a
 * configuration problem of the call, never a refusal of its emails (which would stop them for good).
 */
const partitionCodes: Record<string, string> = {
  "1008": "Marketo refused the lead partition: set MARKETO_PARTITION to a partition the API user's role may write (Admin → Workspaces & Partitions)",
  "1009": "this Marketo instance has lead partitions: set MARKETO_PARTITION to the partition new leads belong to (Admin → Workspaces & Partitions)"
}

export const lookupLeads = Effect.fn("LeadCalls.lookupLeads")(function*(step: LeadBatch) {
  const api = yield* MarketoApi
  const found = yield* api.lookupLeads(step.emails)
  const none = found.filter((f) => f.leadIds.length === 0).map((f) => f.email)
  // Looked up for removal: an email with no lead cannot be on the list.
  return [
    { _tag: "LeadIdsLearned", ids: found.filter((f) => f.leadIds.length > 0) },
    ...(none.length > 0 ? [{ _tag: "MembershipConfirmed" as const, emails: none, synced: false }] : [])
  ] as Array<StepEffect>
})

/** Marketo's "multiple leads match": the email has duplicate leads, which a lookup can name. */
const duplicateLeads = "1007"

/**
 * Create or update the leads of the emails, with their lead field values: the lead ids learned,
 * the emails refused, the fields sent, and which leads Marketo had to create.
 */
export const upsertWithOutcomes = Effect.fn("LeadCalls.upsert")(function*(step: LeadBatch) {
  const api = yield* MarketoApi
  const fields = fieldsByEmail(step.emails, step.fieldsOf)
  const outcomes: ReadonlyArray<UpsertOutcome> = yield* (fields === undefined ? api.upsertLeads(step.emails) : api.upsertLeads(step.emails, fields))
  for (const o of outcomes) {
    const code = o.status === "skipped" ? firstCode(o.reasons) : undefined
    const message = code === undefined ? undefined : partitionCodes[code]
    if (code !== undefined && message !== undefined) return yield* new MarketoRejected({ code, message })
  }
  const ids: Array<{ email: Email; leadIds: ReadonlyArray<LeadId> }> = []
  const refused: Array<{ email: Email; code: string }> = []
  const duplicated: Array<Email> = []
  for (const o of outcomes) {
    if (o.status !== "skipped") ids.push({ email: o.email, leadIds: [o.leadId] })
    else if (firstCode(o.reasons) === duplicateLeads) duplicated.push(o.email)
    else refused.push({ email: o.email, code: firstCode(o.reasons) })
  }
  // Duplicates are common in real instances: rather than refuse the address, put every one of its
  // leads on the list (one more call, only when it happens).
  if (duplicated.length > 0) {
    for (const found of yield* api.lookupLeads(duplicated)) {
      if (found.leadIds.length > 0) ids.push(found)
      else refused.push({ email: found.email, code: duplicateLeads })
    }
  }
  const effects: Array<StepEffect> = [
    { _tag: "LeadIdsLearned", ids },
    ...(refused.length > 0 ? [{ _tag: "EmailsRefused" as const, refused }] : []),
    ...fieldsSent(step.emails, step.fieldsOf)
  ]
  return { effects, created: outcomes.filter((o) => o.status === "created").map((o) => o.email) }
})

export const upsertLeads = (step: LeadBatch) => Effect.map(upsertWithOutcomes(step), (r) => r.effects)
