// The port through which the core talks to one Marketo instance. The real implementation
// (adapters/marketo/MarketoClient.ts) takes a rate-limiter permit for every HTTP call it makes,
// retries included, so callers never think about the budget. Inputs are at most
// MarketoLimits.batchSize records; outcomes come back in input order.
import { Context, type Effect, type Option, Schema, type Stream } from "effect"
import { Email } from "../1-events/Email.js"
import { FolderId, ImportBatchId, LeadId, ListId } from "../1-events/Ids.js"
import type { MarketoError as MarketoResponseError } from "../marketo/MarketoErrors.js"
import type { BudgetExhausted } from "./RateLimiter.js"

/** A call can fail with Marketo's answer, or before it is sent when the day's budget is spent. */
export type MarketoError = MarketoResponseError | BudgetExhausted

export const Reason = Schema.Struct({ code: Schema.String, message: Schema.String })
export type Reason = typeof Reason.Type

export const Folder = Schema.Struct({
  id: FolderId,
  name: Schema.String,
  /** "Folder" or "Program", as Marketo spells it (compare case-insensitively). */
  type: Schema.String,
  path: Schema.String
})
export type Folder = typeof Folder.Type

export const StaticList = Schema.Struct({
  id: ListId,
  name: Schema.String,
  folderId: FolderId
})
export type StaticList = typeof StaticList.Type

/** Result of upserting one email: a lead id, or why Marketo skipped it. */
export const UpsertOutcome = Schema.Union(
  Schema.Struct({ email: Email, status: Schema.Literal("created", "updated"), leadId: LeadId }),
  Schema.Struct({ email: Email, status: Schema.Literal("skipped"), reasons: Schema.Array(Reason) })
)
export type UpsertOutcome = typeof UpsertOutcome.Type

/** Every lead whose email matches (case-insensitively): none, one, or several duplicates. */
export const LeadLookup = Schema.Struct({ email: Email, leadIds: Schema.Array(LeadId) })
export type LeadLookup = typeof LeadLookup.Type

/**
 * Result of adding or removing one lead. `notMember` is Marketo's 1015 on remove (already gone:
 * done); `skipped` carries Marketo's reasons (1004: no such lead).
 */
export const MembershipOutcome = Schema.Struct({
  leadId: LeadId,
  status: Schema.Literal("added", "removed", "notMember", "skipped"),
  reasons: Schema.optional(Schema.Array(Reason))
})
export type MembershipOutcome = typeof MembershipOutcome.Type

export const ImportJob = Schema.Struct({ batchId: ImportBatchId })
export type ImportJob = typeof ImportJob.Type

export const ImportStatus = Schema.Struct({
  batchId: ImportBatchId,
  status: Schema.Literal("Queued", "Importing", "Complete", "Failed"),
  leadsProcessed: Schema.Number,
  rowsFailed: Schema.Number,
  rowsWithWarning: Schema.Number,
  message: Schema.optional(Schema.String)
})
export type ImportStatus = typeof ImportStatus.Type

/** A failed or warned row of an import, with Marketo's reason. */
export const ImportRowProblem = Schema.Struct({ email: Schema.String, reason: Schema.String })
export type ImportRowProblem = typeof ImportRowProblem.Type

/** Lead field values by email: sent as keys of each upsert record, or as an import file's columns. */
export type LeadFieldsByEmail = ReadonlyMap<Email, Readonly<Record<string, string>>>

/** One lead field of the instance, as `GET /rest/v1/leads/describe2.json` describes it. */
export const LeadFieldInfo = Schema.Struct({
  /** The REST API name (what upserts and import headers use). */
  name: Schema.String,
  dataType: Schema.String,
  length: Schema.optional(Schema.Number),
  /** False for fields only Marketo writes (id, createdAt, ...). */
  updateable: Schema.Boolean
})
export type LeadFieldInfo = typeof LeadFieldInfo.Type

export const ListMember = Schema.Struct({ leadId: LeadId, email: Schema.NullOr(Schema.String) })
export type ListMember = typeof ListMember.Type

export const ListMembersPage = Schema.Struct({
  members: Schema.Array(ListMember),
  nextPageToken: Schema.optional(Schema.String)
})
export type ListMembersPage = typeof ListMembersPage.Type

export class MarketoApi extends Context.Tag("marketo-lists/MarketoApi")<MarketoApi, {
  /** Every folder with exactly this name (Asset API), possibly several. One call. */
  readonly findFolders: (name: string) => Effect.Effect<ReadonlyArray<Folder>, MarketoError>
  /** The static list with exactly this name, wherever it is. One call. */
  readonly findStaticList: (name: string) => Effect.Effect<Option.Option<StaticList>, MarketoError>
  /** The static list with this id and the folder it is in (Asset API); none when there is no such list. One call. */
  readonly getStaticList: (listId: ListId) => Effect.Effect<Option.Option<StaticList>, MarketoError>
  /**
   * One call. A duplicate name fails with MarketoRejected code "709". Not repeated when its answer
   * is lost (MarketoAnswerLost): the list may exist; look it up by name.
   */
  readonly createStaticList: (name: string, folderId: FolderId) => Effect.Effect<StaticList, MarketoError>
  /** createOrUpdate by email, at most 300, with the emails' lead field values. One call. */
  readonly upsertLeads: (emails: ReadonlyArray<Email>, fields?: LeadFieldsByEmail) => Effect.Effect<ReadonlyArray<UpsertOutcome>, MarketoError>
  /** Lookup by email, at most 300; POST with `_method=GET` when the URI would pass 8 KB. One call. */
  readonly lookupLeads: (emails: ReadonlyArray<Email>) => Effect.Effect<ReadonlyArray<LeadLookup>, MarketoError>
  /** At most 300 ids. One call. */
  readonly addToList: (listId: ListId, leadIds: ReadonlyArray<LeadId>) => Effect.Effect<ReadonlyArray<MembershipOutcome>, MarketoError>
  /** At most 300 ids. One call. */
  readonly removeFromList: (listId: ListId, leadIds: ReadonlyArray<LeadId>) => Effect.Effect<ReadonlyArray<MembershipOutcome>, MarketoError>
  /**
   * Bulk import (insert or update by email) into the list, with the emails' lead field values;
   * one call per file of core/3-plan/ImportFiles.ts `importFiles` (under 10 MB, one set of fields each).
   * Not repeated when its answer is lost (MarketoAnswerLost): the import may be queued already.
   */
  readonly importLeads: (listId: ListId, emails: ReadonlyArray<Email>, fields?: LeadFieldsByEmail) => Effect.Effect<ReadonlyArray<ImportJob>, MarketoError>
  /**
   * Bulk import (insert or update by email) of one CSV file into the list: `body` is the whole file
   * (its header first), `bytes` its exact UTF-8 size (at most 10 MB). The body is streamed as it
   * is read, never held whole. One call; not repeated when its answer is lost (MarketoAnswerLost).
   */
  readonly importCsv: <E>(listId: ListId, csv: { readonly bytes: number; readonly body: Stream.Stream<string, E> }) => Effect.Effect<ImportJob, MarketoError | E>
  /** One call. */
  readonly importStatus: (batchId: ImportBatchId) => Effect.Effect<ImportStatus, MarketoError>
  /** Failed rows of a finished import. One call. */
  readonly importFailures: (batchId: ImportBatchId) => Effect.Effect<ReadonlyArray<ImportRowProblem>, MarketoError>
  /** Every lead field of the instance (describe2). One call. */
  readonly describeLeadFields: () => Effect.Effect<ReadonlyArray<LeadFieldInfo>, MarketoError>
  /** Rows of a finished import that were warned and not imported (invalid email, several leads). One call. */
  readonly importWarnings: (batchId: ImportBatchId) => Effect.Effect<ReadonlyArray<ImportRowProblem>, MarketoError>
  /** Which of these leads (at most 300) are on the list (`ismember`); a lead that is gone is not. One call. */
  readonly listHasLeads: (listId: ListId, leadIds: ReadonlyArray<LeadId>) => Effect.Effect<ReadonlyArray<LeadId>, MarketoError>
  /** One page (at most 300) of the list's members with their emails. One call. */
  readonly listMembers: (listId: ListId, nextPageToken?: string) => Effect.Effect<ListMembersPage, MarketoError>
}>() {}
