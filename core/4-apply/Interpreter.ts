// Runs one plan step through the ports and says, as data, what it changed. Per-record statuses
// (skipped, not a member) become effects, never failures; response-level failures are the
// tagged Marketo errors, for the sync to handle by kind. Lookups and upserts live in LeadCalls.ts.
import { Effect, Match, Option, Schema } from "effect"
import type { Email } from "../1-events/Email.js"
import type { FolderId, ImportBatchId, LeadId, ListId } from "../1-events/Ids.js"
import { importFiles } from "../3-plan/ImportFiles.js"
import type { PlannedFields } from "../3-plan/PlannedEmail.js"
import { fieldsByEmail, fieldsSent, lookupLeads, upsertLeads, upsertWithOutcomes } from "./LeadCalls.js"
import { checkExternalList } from "./ExternalList.js"
import { MarketoRejected } from "../marketo/MarketoErrors.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import type { ImportRef } from "../2-ledger/ImportsInFlight.js"
import type { EmailRecord } from "../2-ledger/LedgerShard.js"
import type { AddToList, EnsureFolder, EnsureList, ImportLeads, PollImport, RemoveFromList, Step, UpdateLeads } from "../3-plan/Plan.js"
import { type Folder, MarketoApi, type StaticList } from "../ports/MarketoApi.js"
import { StateStore } from "../ports/StateStore.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import { findImport } from "./FindImport.js"
import { sendStaged, stageRows, type StagingContext } from "./StagedImport.js"
import type { StepEffect } from "./StepEffect.js"

/** What the interpreter needs to know about the audience while it works. */
export interface StepContext {
  readonly listId: Option.Option<ListId>
  /** The email's ledger record as the steps so far left it (lead ids, synced, refused). */
  readonly recordOf: (email: Email) => EmailRecord | undefined
  /** The lead field values the email's lead is sent with (none when the email has no fields). */
  readonly fieldsOf?: (email: Email) => PlannedFields | undefined
  /**
   * For an import: the reference its rows were marked with before it was sent (ImportSending,
   * journaled by the sync), and when. Its batch id replaces the reference once Marketo answers.
   */
  readonly sending?: { readonly ref: ImportRef; readonly at: number }
  /** The audience's staged file and the reference a new one takes (StageRows, SendStaged). */
  readonly staging?: StagingContext
  /** The reference a staged file's rows are marked with, by the batch id its import got. */
  readonly markOf?: (batchId: ImportBatchId) => ImportRef | undefined
}

const CachedFolder = Schema.parseJson(Schema.Struct({ name: Schema.String, id: Schema.Number }))

/**
 * Among the folders found by name, deterministically: a real Folder (not a Program; type in any
 * case), the name exactly as configured before one differing only in case, one under Group Lists
 * first, then the lowest id.
 */
export const chooseFolder = (folders: ReadonlyArray<Folder>, name?: string): Option.Option<Folder> => {
  const rank = (f: Folder) => [Number(name !== undefined && f.name !== name), Number(!/group lists/i.test(f.path)), f.id] as const
  const candidates = folders.filter((f) => f.type.toLowerCase() === "folder" && (name === undefined || f.name.toLowerCase() === name.toLowerCase()))
  return Option.fromNullable(
    candidates.sort((a, b) => {
      const [ra, rb] = [rank(a), rank(b)]
      return ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2]
    })[0]
  )
}

const resolveFolder = Effect.fn("Interpreter.resolveFolder")(function*(folderName: string) {
  const store = yield* StateStore
  const cached = (yield* store.get(StateKeys.folder)).pipe(
    Option.flatMap((json) => Schema.decodeUnknownOption(CachedFolder)(json)),
    Option.filter((c) => c.name === folderName)
  )
  if (Option.isSome(cached)) return cached.value.id as FolderId
  const api = yield* MarketoApi
  const found = chooseFolder(yield* api.findFolders(folderName), folderName)
  if (Option.isNone(found)) {
    return yield* new MarketoRejected({
      code: "710",
      message: `folder "${folderName}" not found in Marketo: create it under Lead Database → Group Lists, or set MARKETO_FOLDER`
    })
  }
  yield* store.set(StateKeys.folder, Schema.encodeSync(CachedFolder)({ name: folderName, id: found.value.id }))
  return found.value.id
})

const forgetFolder = Effect.flatMap(StateStore, (store) => store.remove([StateKeys.folder]))

const ensureFolder = (step: EnsureFolder) => Effect.as(resolveFolder(step.folderName), [] as Array<StepEffect>)

const ensureList = Effect.fn("Interpreter.ensureList")(function*(step: EnsureList) {
  const api = yield* MarketoApi
  const folderId = yield* resolveFolder(step.folderName)
  if (step.listId !== undefined) {
    yield* checkExternalList(step.listId, { id: folderId, name: step.folderName }, step.audience)
    return [{ _tag: "ListEnsured", listId: step.listId, folderId }] as Array<StepEffect>
  }
  const create = api.createStaticList(step.listName, folderId).pipe(
    // The cached folder is gone (deleted or moved in Marketo): look it up again next time.
    Effect.tapError((e) => e._tag === "MarketoRejected" && e.code === "710" ? forgetFolder : Effect.void)
  )
  // A list of the name already there is adopted when it is in the folder, never when elsewhere.
  const adopt = <E, R>(existing: Option.Option<StaticList>, otherwise: () => Effect.Effect<StaticList, E, R>): Effect.Effect<StaticList, E | MarketoRejected, R> =>
    Option.match(existing, {
      onNone: otherwise,
      onSome: (list) =>
        list.folderId === folderId ? Effect.succeed(list) : Effect.fail(
          new MarketoRejected({
            code: "709",
            message: `a list named "${step.listName}" already exists outside folder "${step.folderName}" (list id ${list.id}): rename or move it, or set a display name for audience "${step.audience}"`
          })
        )
    })
  const list = yield* create.pipe(
    // The creation's answer was lost: the list may exist (adopted), or the creation never ran and
    // is made once more.
    Effect.catchIf((e) => e._tag === "MarketoAnswerLost", () => Effect.flatMap(api.findStaticList(step.listName), (existing) => adopt(existing, () => create))),
    Effect.catchIf((e) => e._tag === "MarketoRejected" && e.code === "709", (rejected) =>
      Effect.flatMap(api.findStaticList(step.listName), (existing) => adopt(existing, () => Effect.fail(rejected))))
  )
  return [{ _tag: "ListEnsured", listId: list.id, folderId }] as Array<StepEffect>
})

const requireList = (context: StepContext) =>
  Option.match(context.listId, {
    onNone: () => Effect.fail(new MarketoRejected({ code: "1013", message: "the audience has no list yet" })),
    onSome: Effect.succeed
  })

/**
 * Send the changed lead fields of members on the list. A lead Marketo had to create was gone (a
 * person deleted it), so its email is not on the list any more: it is added again next tick.
 */
const updateLeads = Effect.fn("Interpreter.updateLeads")(function*(step: UpdateLeads, context: StepContext) {
  const upserted = yield* upsertWithOutcomes({ emails: step.emails, ...(context.fieldsOf === undefined ? {} : { fieldsOf: context.fieldsOf }) })
  // A record Marketo skips keeps its place on the list: its values count as sent (no retry until
  // they change), but the email is not refused.
  const effects = upserted.effects.filter((e) => e._tag !== "EmailsRefused")
  const { created } = upserted
  return created.length === 0 ? effects : [...effects, { _tag: "MembershipConfirmed", emails: created, synced: false } as StepEffect]
})

/**
 * Lead ids of the emails, in calls of at most 300 ids, with the email each id belongs to. An email
 * without ids is fine only when an earlier step explained why (refused on upsert; no lead found for
 * a removal); otherwise the plan skipped a step, which is a bug to surface, not to paper over.
 */
const idBatches = (kind: "add" | "remove", emails: ReadonlyArray<Email>, context: StepContext) => {
  const owner = new Map<LeadId, Email>()
  const unexplained: Array<Email> = []
  for (const email of emails) {
    const record = context.recordOf(email)
    const ids = record?.leadIds ?? []
    for (const id of ids) owner.set(id, email)
    const explained = kind === "add" ? record?.refused !== undefined : record?.synced === false
    if (ids.length === 0 && !explained) unexplained.push(email)
  }
  const ids = [...owner.keys()]
  const batches: Array<Array<LeadId>> = []
  for (let i = 0; i < ids.length; i += MarketoLimits.batchSize) batches.push(ids.slice(i, i + MarketoLimits.batchSize))
  return { owner, batches, unexplained }
}

const changeMembership = (kind: "add" | "remove") =>
  Effect.fn(`Interpreter.${kind}`)(function*(step: AddToList | RemoveFromList, context: StepContext) {
    const api = yield* MarketoApi
    const listId = yield* requireList(context)
    const { batches, owner, unexplained } = idBatches(kind, step.emails, context)
    if (unexplained.length > 0) {
      return yield* Effect.dieMessage(
        `${step._tag} for "${step.audience}": no lead id known for ${unexplained.length} email(s), e.g. ${unexplained[0]}; the plan must upsert or look them up first`
      )
    }
    const confirmed = new Set<Email>()
    const forget = new Set<Email>()
    for (const ids of batches) {
      const outcomes = kind === "add" ? yield* api.addToList(listId, ids) : yield* api.removeFromList(listId, ids)
      for (const o of outcomes) {
        const email = owner.get(o.leadId)
        if (email === undefined) continue
        if (o.status === "added" || o.status === "removed" || o.status === "notMember") confirmed.add(email)
        else forget.add(email) // 1004: a stale lead id (merged into another, or deleted)
      }
    }
    const effects: Array<StepEffect> = [{ _tag: "MembershipConfirmed", emails: [...confirmed].filter((e) => !forget.has(e)), synced: kind === "add" }]
    // On add, the email is upserted again next tick. On remove, the lead that is gone may have been
    // merged into another lead of the email, which took its lists: look the email up again and
    // remove whatever leads it has now (one lookup and one removal per 300, only when it happens).
    if (forget.size > 0 && kind === "add") effects.push({ _tag: "LeadIdsLearned", ids: [...forget].map((email) => ({ email, leadIds: [] })) })
    if (forget.size > 0 && kind === "remove") effects.push(...yield* removeCurrentLeads(listId, [...forget]))
    return effects
  })

/** Emails whose cached leads are gone: their leads now, each removed from the list. */
const removeCurrentLeads = Effect.fn("Interpreter.removeCurrentLeads")(function*(listId: ListId, emails: ReadonlyArray<Email>) {
  const api = yield* MarketoApi
  const ids: Array<{ email: Email; leadIds: ReadonlyArray<LeadId> }> = []
  for (let i = 0; i < emails.length; i += MarketoLimits.batchSize) ids.push(...yield* api.lookupLeads(emails.slice(i, i + MarketoLimits.batchSize)))
  const all = ids.flatMap((f) => f.leadIds)
  for (let i = 0; i < all.length; i += MarketoLimits.batchSize) yield* api.removeFromList(listId, all.slice(i, i + MarketoLimits.batchSize))
  return [
    { _tag: "LeadIdsLearned", ids },
    { _tag: "MembershipConfirmed", emails, synced: false }
  ] as Array<StepEffect>
})

const importLeads = Effect.fn("Interpreter.importLeads")(function*(step: ImportLeads, context: StepContext) {
  const api = yield* MarketoApi
  const listId = yield* requireList(context)
  const fields = fieldsByEmail(step.emails, context.fieldsOf)
  const outcome = yield* Effect.either(fields === undefined ? api.importLeads(listId, step.emails) : api.importLeads(listId, step.emails, fields))
  // The answer is lost: the import may be queued. Its rows stay marked with the reference
  // journaled before it was sent, until the sync finds out what became of it (FindImport.ts).
  // Its fields do not count as sent: they stay pending until a later send confirms them.
  if (outcome._tag === "Left" && outcome.left._tag === "MarketoAnswerLost" && context.sending !== undefined) return [] as Array<StepEffect>
  if (outcome._tag === "Left") return yield* Effect.fail(outcome.left)
  const jobs = outcome.right
  const ref = context.sending === undefined ? {} : { ref: context.sending.ref, at: context.sending.at }
  // The client sends one file per 10 MB and set of fields, split as importFiles splits: each email
  // is marked with the job that carries it, so one job failing re-plans exactly its own emails.
  // A file that fails is imported again, fields and all, so its fields count as sent now.
  const sent = fieldsSent(step.emails, context.fieldsOf)
  const files = importFiles(step.emails, (email) => fields?.get(email))
  if (jobs.length > 1 && files.length === jobs.length) {
    return [...jobs.map((job, i): StepEffect => ({ _tag: "ImportStarted", batchIds: [job.batchId], emails: files[i]!.emails, ...ref })), ...sent]
  }
  return [{ _tag: "ImportStarted", batchIds: jobs.map((j) => j.batchId), emails: step.emails, ...ref }, ...sent] as Array<StepEffect>
})

const pollImport = Effect.fn("Interpreter.pollImport")(function*(step: PollImport, context: StepContext) {
  const api = yield* MarketoApi
  const status = yield* api.importStatus(step.batchId)
  if (status.status === "Queued" || status.status === "Importing") return [] as Array<StepEffect>
  // Failed rows and warned rows (an invalid address, several leads for one) were not imported.
  const problems = [
    ...(status.status === "Complete" && status.rowsFailed > 0 ? yield* api.importFailures(step.batchId) : []),
    ...(status.status === "Complete" && status.rowsWithWarning > 0 ? yield* api.importWarnings(step.batchId) : [])
  ]
  const failed = problems.map((p) => ({ email: p.email.trim().toLowerCase() as Email, code: p.reason }))
  const ref = context.markOf?.(step.batchId)
  return [{ _tag: "ImportEnded", batchId: step.batchId, ...(ref === undefined ? {} : { ref }), status: status.status, failed }] as Array<StepEffect>
})

const addToList = changeMembership("add")
const removeFromList = changeMembership("remove")

export const applyStep = (step: Step, context: StepContext) =>
  Match.valueTags(step, {
    EnsureFolder: (s) => ensureFolder(s),
    EnsureList: (s) => ensureList(s),
    LookupLeads: (s) => lookupLeads(s),
    UpsertLeads: (s) => upsertLeads({ emails: s.emails, ...(context.fieldsOf === undefined ? {} : { fieldsOf: context.fieldsOf }) }),
    UpdateLeads: (s) => updateLeads(s, context),
    AddToList: (s) => addToList(s, context),
    RemoveFromList: (s) => removeFromList(s, context),
    ImportLeads: (s) => importLeads(s, context),
    PollImport: (s) => pollImport(s, context),
    FindImport: (s) => findImport(s, context.listId),
    StageRows: (s) =>
      context.staging === undefined ? Effect.dieMessage("StageRows without the audience's staging") : stageRows(s, context.staging, context.fieldsOf),
    SendStaged: (s) =>
      Effect.flatMap(requireList(context), (listId) =>
        context.staging?.staged === undefined ? Effect.succeed([] as Array<StepEffect>) : sendStaged(s.audience, listId, context.staging.staged, s.why))
  })
