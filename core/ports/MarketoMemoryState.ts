// The in-memory Marketo's state, options and test controls (MarketoApiMemory.ts).
import type { Effect } from "effect"
import type { Email } from "../1-events/Email.js"
import type { FolderId, ImportBatchId, LeadId, ListId } from "../1-events/Ids.js"
import type { Folder, LeadFieldInfo, LeadFieldsByEmail, MarketoError, StaticList } from "./MarketoApi.js"

export interface ImportJobState {
  readonly listId: ListId
  readonly emails: ReadonlyArray<Email>
  readonly fields?: LeadFieldsByEmail | undefined
  readonly polls: number
  /** With `importMillis`: when the import has run (it then applies on the next call of any kind). */
  readonly readyAt?: number
  /** Rows Marketo refused, and rows it warned and skipped (several leads), once the import has run. */
  readonly failures: ReadonlyArray<{ readonly email: string; readonly reason: string }>
  readonly warnings?: ReadonlyArray<{ readonly email: string; readonly reason: string }>
}

export interface MarketoMemoryState {
  readonly folders: ReadonlyArray<Folder>
  readonly lists: ReadonlyMap<ListId, StaticList & { readonly members: ReadonlySet<LeadId> }>
  readonly leads: ReadonlyMap<LeadId, Email>
  /** Lead ids by lower-cased email, ascending (several: duplicates). */
  readonly leadsByEmail: ReadonlyMap<string, ReadonlyArray<LeadId>>
  /** Lead field values by lead. */
  readonly fields: ReadonlyMap<LeadId, Readonly<Record<string, string>>>
  readonly imports: ReadonlyMap<ImportBatchId, ImportJobState>
  readonly nextId: number
  readonly calls: number
}

export interface MarketoMemoryOptions {
  readonly folders?: ReadonlyArray<Folder>
  /** Polls an import answers Queued/Importing before Complete. */
  readonly pollsUntilComplete?: number
  /** Emails whose upsert Marketo skips (and whose import row fails), with the reason code. */
  readonly refuse?: ReadonlyMap<string, string>
  /** Imports end Failed instead of Complete. */
  readonly failImports?: boolean
  /** What describe answers (default: a few standard fields, id and createdAt read-only). */
  readonly leadFields?: ReadonlyArray<LeadFieldInfo>
  /**
   * Imports run for this long (on the Clock) instead of until a number of polls, and apply on the
   * first call of any kind after that, polled or not (as Marketo's do).
   */
  readonly importMillis?: number
  /**
   * Members per page of `listMembers` (default 300, Marketo's batch size). Pages run in lead id
   * order and the token is the last id given, so members added or removed meanwhile shift no page.
   */
  readonly listPageSize?: number
}

export const defaultMemoryLeadFields: ReadonlyArray<LeadFieldInfo> = [
  { name: "id", dataType: "integer", updateable: false },
  { name: "email", dataType: "email", length: 255, updateable: true },
  { name: "firstName", dataType: "string", length: 255, updateable: true },
  { name: "lastName", dataType: "string", length: 255, updateable: true },
  { name: "company", dataType: "string", length: 255, updateable: true },
  { name: "createdAt", dataType: "datetime", updateable: false }
]

export interface MarketoMemoryControl {
  readonly state: Effect.Effect<MarketoMemoryState>
  /** The list's members as emails, sorted. */
  readonly members: (listName: string) => Effect.Effect<ReadonlyArray<string>>
  /** Fail the call with this 1-based number (counting every port call) with the given error. */
  readonly failCall: (callNumber: number, error: MarketoError) => Effect.Effect<void>
  /** Fail the next call made with the given error. */
  readonly failNext: (error: MarketoError) => Effect.Effect<void>
  /** Interrupt the whole program at this call, as a runtime killing the invocation would. */
  readonly crashAtCall: (callNumber: number) => Effect.Effect<void>
  /** The lead field values of the email's first lead. */
  readonly fieldsOf: (email: string) => Effect.Effect<Readonly<Record<string, string>> | undefined>
  /** Delete every lead of the email, as a person deleting it in Marketo (it leaves every list). */
  readonly deleteLead: (email: string) => Effect.Effect<void>
  /** Interrupt the whole program once this call has run in Marketo, before its answer is used. */
  readonly crashAfterCall: (callNumber: number) => Effect.Effect<void>
  /** Run this call, then lose its answer: MarketoAnswerLost for a list's creation or an import, MarketoTransient for the others. */
  readonly loseAnswer: (callNumber: number) => Effect.Effect<void>
  /** What a person does by hand (PersonEditsMemory.ts): merge leads, delete or rename a list; and lead ids of an email. */
  readonly mergeLeads: (loserId: LeadId, winnerId: LeadId) => Effect.Effect<void>
  readonly deleteList: (name: string) => Effect.Effect<void>
  readonly renameList: (name: string, to: string) => Effect.Effect<void>
  readonly leadIdsOf: (email: string) => Effect.Effect<ReadonlyArray<LeadId>>
  /** Add a lead directly (e.g. a duplicate for an email). */
  readonly addLead: (email: string) => Effect.Effect<LeadId>
  /** Create a list directly (e.g. one a person made by hand). */
  readonly addList: (name: string, folderId: FolderId, emails?: ReadonlyArray<string>) => Effect.Effect<ListId>
}

export const defaultFolder: Folder = { id: 1034 as FolderId, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Group Lists/Engage Audiences" }

