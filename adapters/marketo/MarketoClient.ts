// The Marketo REST client behind the core's MarketoApi port. Every HTTP call takes a permit from
// the instance's RateLimiter (retries too); tokens are shared and refreshed once on 601/602;
// response-level errors become tagged errors by the code table and are retried with a bounded
// exponential backoff only where the table says so; per-record statuses come back as data. A call
// whose answer was lost (connection, 5xx, not JSON, timeout) may have run: it is retried only when
// running it twice is harmless, never for a bulk import or a list's creation (MarketoAnswerLost).
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Effect, Layer, Option, Schedule, Schema, Stream } from "effect"
import { parseCsv } from "../../core/3-plan/Csv.js"
import type { Email } from "../../core/1-events/Email.js"
import type { FolderId, ImportBatchId, LeadId, ListId } from "../../core/1-events/Ids.js"
import { csvOf, importFiles } from "../../core/3-plan/ImportFiles.js"
import { lookupMethodFor, lookupPath } from "../../core/3-plan/LookupMethod.js"
import { MarketoAnswerLost, MarketoRejected, MarketoTransient, MarketoUnknownError } from "../../core/marketo/MarketoErrors.js"
import { MarketoLimits } from "../../core/marketo/MarketoLimits.js"
import { type LeadFieldsByEmail, MarketoApi, type MarketoError, type MembershipOutcome, type UpsertOutcome } from "../../core/ports/MarketoApi.js"
import { RateLimiter } from "../../core/ports/RateLimiter.js"
import { makeAccessTokens } from "./AccessToken.js"
import { classify, isRetryable } from "./CodeTable.js"
import {
  Envelope,
  FolderRecord,
  ImportRecord,
  ImportStatusRecord,
  LeadDescribeRecord,
  IsMemberRecord,
  LeadRecord,
  MembershipRecord,
  StaticListRecord,
  UpsertRecord
} from "./Envelope.js"
import { MarketoConfig } from "./MarketoConfig.js"

/** Up to 4 tries in all, 1 s, 2 s, 4 s apart by default (with jitter). */
export const retrySchedule = (baseMillis = 1_000) =>
  Schedule.exponential(baseMillis).pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(3)))

/** What one exchange yields: Marketo's JSON envelope, or a CSV (import failures and warnings). */
type Answer = { readonly _tag: "Envelope"; readonly envelope: Envelope } | { readonly _tag: "Csv"; readonly csv: string }

/** Marketo gives up on its side after 30 s (lead endpoints) or 90 s (sync leads) with a 604. */
export const defaultRequestTimeoutMillis = 120_000

const shapeError = (what: string) => () => new MarketoUnknownError({ code: "shape", message: `Marketo answered ${what} in an unexpected shape` })

export const make = Effect.gen(function*() {
  const http = yield* HttpClient.HttpClient
  const config = yield* MarketoConfig
  const limiter = yield* RateLimiter
  const tokens = yield* makeAccessTokens
  const timeoutMillis = config.requestTimeoutMillis ?? defaultRequestTimeoutMillis

  /**
   * One HTTP exchange under a permit. The token is fetched before the permit (an identity call
   * spends no permit) and read again once the permit is granted, so a call that waited for its
   * permit never sends a token another call has found bad meanwhile (that read is the shared
   * token, an identity call only if it was dropped). A 601/602 drops the token it was sent with.
   */
  const exchange = (build: () => HttpClientRequest.HttpClientRequest) =>
    Effect.zipRight(
      tokens.current,
      limiter.withPermit(Effect.flatMap(tokens.current, (token) =>
        send(build, token).pipe(
          Effect.tapError((e) => (isStaleToken(e) ? tokens.invalidate(token) : Effect.void))
        )))
    )

  /**
   * What stopped a request, for the logs: the client's reason and its chain of causes, each with
   * its code when it has one (a fetch that "failed" says why only in its cause's cause), never the
   * request itself, which may carry emails.
   */
  const whyIncomplete = (e: { readonly _tag: string; readonly reason?: string; readonly cause?: unknown }) => {
    const causes: Array<string> = []
    for (let c: unknown = e.cause; c instanceof Error && causes.length < 4; c = (c as { cause?: unknown }).cause) {
      const code = (c as { code?: unknown }).code
      causes.push(`${c.message.replace(/https?:\/\/\S+/g, "<url>").slice(0, 160)}${typeof code === "string" ? ` [${code}]` : ""}`)
    }
    return `${e._tag}${e.reason === undefined ? "" : ` ${e.reason}`}${causes.map((c) => `: ${c}`).join("")}`
  }

  const isStaleToken = (e: MarketoError) => e._tag === "MarketoAuthError" && (e.code === "601" || e.code === "602")

  const send = (build: () => HttpClientRequest.HttpClientRequest, token: string) =>
    Effect.gen(function*() {
      const request = build().pipe(HttpClientRequest.bearerToken(token))
      // A hung answer would hold a permit forever: past the timeout its answer counts as lost.
      // Every failure here may come after Marketo ran the call (MarketoAnswerLost); `call` turns
      // it into MarketoTransient for the calls that are safe to repeat.
      const [response, text] = yield* http.execute(request).pipe(
        Effect.flatMap((r) => Effect.map(r.text.pipe(Effect.orElseSucceed(() => "")), (t) => [r, t] as const)),
        Effect.mapError((e) => new MarketoAnswerLost({ code: "network", message: `the request to Marketo did not complete (${whyIncomplete(e)})` })),
        Effect.timeoutFail({
          duration: timeoutMillis,
          onTimeout: () => new MarketoAnswerLost({ code: "timeout", message: `Marketo did not answer within ${timeoutMillis} ms` })
        })
      )
      if (response.status === 413) return yield* new MarketoRejected({ code: "HTTP 413", message: "request body too large for Marketo" })
      if (response.status === 414) return yield* new MarketoRejected({ code: "HTTP 414", message: "request URI too long for Marketo" })
      if (response.status >= 500) return yield* new MarketoAnswerLost({ code: `HTTP ${response.status}`, message: "Marketo's edge failed" })
      const contentType = response.headers["content-type"] ?? ""
      if (contentType.includes("text/csv")) return { _tag: "Csv", csv: text } as Answer
      const envelope = yield* Schema.decodeUnknown(Schema.parseJson(Envelope))(text).pipe(
        Effect.mapError(() => new MarketoAnswerLost({ code: `HTTP ${response.status}`, message: "Marketo answered with something that is not its JSON envelope" }))
      )
      if (!envelope.success) {
        const issue = envelope.errors?.[0]
        return yield* Effect.fail(classify(issue?.code ?? "unknown", issue?.message ?? "no message"))
      }
      return { _tag: "Envelope", envelope } as Answer
    })

  const signalled = (error: MarketoError): Effect.Effect<never, MarketoError> =>
    error._tag === "MarketoRateLimited" || error._tag === "MarketoQuotaExhausted"
      ? Effect.zipRight(limiter.signal({ code: error.code as "606" | "615" | "607" }), Effect.fail(error))
      : Effect.fail(error)

  /**
   * With one refresh on 601/602, signals for 606/615/607, and retries where the table allows. A
   * lost answer is retried as transient when the call is `idempotent` (running it twice changes
   * nothing); otherwise it surfaces as MarketoAnswerLost, never sent again blindly. Envelope
   * errors mean Marketo ran nothing, so they are retried the same way for every call.
   */
  const call = (build: () => HttpClientRequest.HttpClientRequest, idempotent = true) =>
    exchange(build).pipe(
      Effect.catchIf(isStaleToken, () => exchange(build)),
      Effect.catchAll(signalled),
      Effect.mapError((e): MarketoError => (idempotent && e._tag === "MarketoAnswerLost" ? new MarketoTransient({ code: e.code, message: e.message }) : e)),
      Effect.retry({ schedule: retrySchedule(config.retryBaseMillis), while: (e) => e._tag !== "BudgetExhausted" && isRetryable(e) })
    )

  const envelopeOf = (build: () => HttpClientRequest.HttpClientRequest, idempotent = true) =>
    Effect.flatMap(call(build, idempotent), (r) => (r._tag === "Envelope" ? Effect.succeed(r.envelope) : Effect.fail(shapeError("CSV")())))

  const results = <A, I>(schema: Schema.Schema<A, I>, what: string) => (envelope: Envelope) =>
    Schema.decodeUnknown(Schema.Array(schema))(envelope.result ?? []).pipe(Effect.mapError(shapeError(what)))

  const url = (path: string) => `${config.baseUrl}${path}`

  const findFolders = (name: string) =>
    envelopeOf(() => HttpClientRequest.get(url("/rest/asset/v1/folder/byName.json"), { urlParams: { name, type: "Folder" } })).pipe(
      Effect.flatMap(results(FolderRecord, "folders")),
      Effect.map((folders) => folders.map((f) => ({ id: f.id as FolderId, name: f.name, type: f.type, path: f.path })))
    )

  const findStaticList = (name: string) =>
    envelopeOf(() => HttpClientRequest.get(url("/rest/asset/v1/staticList/byName.json"), { urlParams: { name } })).pipe(
      Effect.flatMap(results(StaticListRecord, "static lists")),
      Effect.map((lists) => Option.map(Option.fromNullable(lists.find((l) => l.name === name)), (l) => ({ id: l.id as ListId, name: l.name, folderId: l.folder.id as FolderId })))
    )

  // A missing list is Asset's "nothing found": a warning and no result.
  const getStaticList = (listId: ListId) =>
    envelopeOf(() => HttpClientRequest.get(url(`/rest/asset/v1/staticList/${listId}.json`))).pipe(
      Effect.flatMap(results(StaticListRecord, "the static list")),
      Effect.map((lists) => Option.map(Option.fromNullable(lists.find((l) => l.id === listId)), (l) => ({ id: l.id as ListId, name: l.name, folderId: l.folder.id as FolderId })))
    )

  // Not idempotent: a creation whose answer is lost may have made the list (the caller looks it up).
  const createStaticList = (name: string, folderId: FolderId) =>
    envelopeOf(() =>
      HttpClientRequest.post(url("/rest/asset/v1/staticLists.json")).pipe(
        HttpClientRequest.bodyUrlParams({ name, folder: JSON.stringify({ id: folderId, type: "Folder" }) })
      ), false).pipe(
      Effect.flatMap(results(StaticListRecord, "the created list")),
      Effect.flatMap((lists) => (lists[0] === undefined ? Effect.fail(shapeError("the created list")()) : Effect.succeed(lists[0]))),
      Effect.map((l) => ({ id: l.id as ListId, name: l.name, folderId: l.folder.id as FolderId }))
    )

  const guardBatch = (count: number) =>
    count > MarketoLimits.batchSize
      ? Effect.fail(new MarketoRejected({ code: "batch", message: `at most ${MarketoLimits.batchSize} records per call, got ${count}` }))
      : Effect.void

  // The lead partition new leads go to, on instances that have partitions (1008/1009 otherwise).
  const partition = config.partitionName === undefined ? {} : { partitionName: config.partitionName }

  const upsertLeads = (emails: ReadonlyArray<Email>, fields?: LeadFieldsByEmail) =>
    Effect.gen(function*() {
      if (emails.length === 0) return []
      yield* guardBatch(emails.length)
      // Each record carries its lead field values as keys beside the email.
      const input = emails.map((email) => ({ ...fields?.get(email), email }))
      const envelope = yield* envelopeOf(() =>
        HttpClientRequest.post(url("/rest/v1/leads.json")).pipe(
          HttpClientRequest.bodyUnsafeJson({ action: "createOrUpdate", lookupField: "email", ...partition, input })
        )
      )
      const records = yield* results(UpsertRecord, "upsert results")(envelope)
      // Marketo answers in input order, one record per input.
      if (records.length !== emails.length) return yield* shapeError("a different number of upsert results than inputs")()
      return records.map((r, i): UpsertOutcome =>
        r.status === "skipped"
          ? { email: emails[i]!, status: "skipped", reasons: (r.reasons ?? []).map((x) => ({ code: x.code, message: x.message })) }
          : { email: emails[i]!, status: r.status, leadId: r.id as LeadId }
      )
    })

  const lookupLeads = (emails: ReadonlyArray<Email>) =>
    Effect.gen(function*() {
      if (emails.length === 0) return []
      yield* guardBatch(emails.length)
      const params = { filterType: "email", filterValues: emails.join(","), fields: "id,email", batchSize: String(MarketoLimits.batchSize) }
      const method = lookupMethodFor(emails)
      const found = new Map<string, Array<LeadId>>()
      let pageToken: string | undefined
      do {
        const page = { ...params, ...(pageToken === undefined ? {} : { nextPageToken: pageToken }) }
        const envelope = yield* envelopeOf(() =>
          method === "GET"
            ? HttpClientRequest.get(url(lookupPath), { urlParams: page })
            : HttpClientRequest.post(url(lookupPath), { urlParams: { _method: "GET" } }).pipe(HttpClientRequest.bodyUrlParams(page))
        )
        for (const lead of yield* results(LeadRecord, "leads")(envelope)) {
          const key = (lead.email ?? "").toLowerCase()
          found.set(key, [...(found.get(key) ?? []), lead.id as LeadId])
        }
        pageToken = (envelope.result?.length ?? 0) > 0 ? envelope.nextPageToken : undefined
      } while (pageToken !== undefined)
      return emails.map((email) => ({ email, leadIds: found.get(email.toLowerCase()) ?? [] }))
    })

  const membership = (listId: ListId, leadIds: ReadonlyArray<LeadId>, kind: "add" | "remove") =>
    Effect.gen(function*() {
      if (leadIds.length === 0) return []
      yield* guardBatch(leadIds.length)
      const path = url(`/rest/v1/lists/${listId}/leads.json`)
      // Add takes a JSON body; remove takes repeated `id` parameters, as Adobe's description
      // requires (300 ids stay far below the 8 KB URI limit).
      const envelope = yield* envelopeOf(() =>
        kind === "add"
          ? HttpClientRequest.post(path).pipe(HttpClientRequest.setBody(HttpBody.unsafeJson({ input: leadIds.map((id) => ({ id })) })))
          : HttpClientRequest.del(path, { urlParams: leadIds.map((id) => ["id", String(id)] as const) })
      )
      const records = yield* results(MembershipRecord, "membership results")(envelope)
      const sent = new Set<number>(leadIds)
      if (records.some((r) => !sent.has(r.id))) return yield* shapeError("membership results for leads that were not sent")()
      return records.map((r): MembershipOutcome => {
        const reasons = (r.reasons ?? []).map((x) => ({ code: x.code, message: x.message }))
        if (r.status === "added" || r.status === "removed") return { leadId: r.id as LeadId, status: r.status }
        if (kind === "remove" && reasons.some((x) => x.code === "1015")) return { leadId: r.id as LeadId, status: "notMember", reasons }
        return { leadId: r.id as LeadId, status: "skipped", reasons }
      })
    })

  // One file per 10 MB and per set of lead fields (no row with an empty cell), as the core splits them.
  const importLeads = (listId: ListId, emails: ReadonlyArray<Email>, fields?: LeadFieldsByEmail) =>
    Effect.forEach(importFiles(emails, (email) => fields?.get(email)), (file) =>
      Effect.gen(function*() {
        const csv = csvOf(file, (email) => fields?.get(email))
        // Not idempotent: an import whose answer is lost may be queued (the caller finds out).
        const envelope = yield* envelopeOf(() => {
          const form = new FormData()
          form.append("file", new Blob([csv], { type: "text/csv" }), "leads.csv")
          return HttpClientRequest.post(url("/bulk/v1/leads.json"), {
            urlParams: { format: "csv", lookupField: "email", listId: String(listId), ...partition }
          }).pipe(HttpClientRequest.bodyFormData(form))
        }, false)
        const [job] = yield* results(ImportRecord, "the import job")(envelope)
        return job === undefined ? yield* shapeError("the import job")() : { batchId: job.batchId as ImportBatchId }
      }))

  // One file whose body is streamed as the core reads it (a staged file's parts, one at a time): the
  // multipart framing around it is written here, and the request carries the whole body's length.
  const importCsv = <E>(listId: ListId, csv: { readonly bytes: number; readonly body: Stream.Stream<string, E> }) =>
    Effect.gen(function*() {
      const boundary = `----marketo-static-lists-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="leads.csv"\r\nContent-Type: text/csv\r\n\r\n`
      const tail = `\r\n--${boundary}--\r\n`
      const encoder = new TextEncoder()
      const body = Stream.concat(Stream.concat(Stream.make(head), csv.body), Stream.make(tail)).pipe(Stream.map((text) => encoder.encode(text)))
      const envelope = yield* envelopeOf(() =>
        HttpClientRequest.post(url("/bulk/v1/leads.json"), {
          urlParams: { format: "csv", lookupField: "email", listId: String(listId), ...partition }
        }).pipe(HttpClientRequest.bodyStream(body, { contentType: `multipart/form-data; boundary=${boundary}`, contentLength: head.length + csv.bytes + tail.length })), false)
      const [job] = yield* results(ImportRecord, "the import job")(envelope)
      return job === undefined ? yield* shapeError("the import job")() : { batchId: job.batchId as ImportBatchId }
    })

  const importStatus = (batchId: ImportBatchId) =>
    envelopeOf(() => HttpClientRequest.get(url(`/bulk/v1/leads/batch/${batchId}.json`))).pipe(
      Effect.flatMap(results(ImportStatusRecord, "the import status")),
      Effect.flatMap(([s]) =>
        s === undefined ? Effect.fail(shapeError("the import status")()) : Effect.succeed({
          batchId,
          status: s.status,
          leadsProcessed: s.numOfLeadsProcessed,
          rowsFailed: s.numOfRowsFailed,
          rowsWithWarning: s.numOfRowsWithWarning,
          ...(s.message === undefined ? {} : { message: s.message })
        })
      )
    )

  const importReport = (batchId: ImportBatchId, kind: "failures" | "warnings") =>
    Effect.map(call(() => HttpClientRequest.get(url(`/bulk/v1/leads/batch/${batchId}/${kind}.json`))), (r) => {
      if (r._tag !== "Csv") return []
      const [header, ...rows] = parseCsv(r.csv)
      const emailAt = Math.max(0, (header ?? []).findIndex((h) => h.trim().toLowerCase() === "email"))
      return rows.filter((row) => row.length > 1).map((row) => ({ email: row[emailAt] ?? "", reason: row[row.length - 1] ?? "" }))
    })

  const describeLeadFields = () =>
    envelopeOf(() => HttpClientRequest.get(url("/rest/v1/leads/describe2.json"))).pipe(
      Effect.flatMap(results(LeadDescribeRecord, "the lead fields")),
      Effect.map((records) => records.flatMap((r) => r.fields.map(({ length, ...f }) => (length == null ? f : { ...f, length }))))
    )

  const listHasLeads = (listId: ListId, leadIds: ReadonlyArray<LeadId>) =>
    Effect.gen(function*() {
      if (leadIds.length === 0) return []
      yield* guardBatch(leadIds.length)
      const envelope = yield* envelopeOf(() =>
        HttpClientRequest.get(url(`/rest/v1/lists/${listId}/leads/ismember.json`), { urlParams: leadIds.map((id) => ["id", String(id)] as const) })
      )
      const records = yield* results(IsMemberRecord, "membership checks")(envelope)
      return records.filter((r) => r.status === "memberof").map((r) => r.id as LeadId)
    })

  const listMembers = (listId: ListId, nextPageToken?: string) =>
    envelopeOf(() =>
      HttpClientRequest.get(url(`/rest/v1/lists/${listId}/leads.json`), {
        urlParams: { batchSize: String(MarketoLimits.batchSize), fields: "id,email", ...(nextPageToken === undefined ? {} : { nextPageToken }) }
      })
    ).pipe(
      Effect.flatMap((envelope) =>
        Effect.map(results(LeadRecord, "list members")(envelope), (leads) => ({
          members: leads.map((l) => ({ leadId: l.id as LeadId, email: l.email ?? null })),
          ...(leads.length > 0 && envelope.nextPageToken !== undefined ? { nextPageToken: envelope.nextPageToken } : {})
        }))
      )
    )

  // Each operation is a named span (`MarketoClient.addToList`…) for traces and logs.
  const traced = <Args extends ReadonlyArray<unknown>, A, E>(name: string, f: (...args: Args) => Effect.Effect<A, E>) =>
    (...args: Args) => Effect.withSpan(f(...args), `MarketoClient.${name}`)

  return MarketoApi.of({
    findFolders: traced("findFolders", findFolders),
    findStaticList: traced("findStaticList", findStaticList),
    getStaticList: traced("getStaticList", getStaticList),
    createStaticList: traced("createStaticList", createStaticList),
    upsertLeads: traced("upsertLeads", upsertLeads),
    lookupLeads: traced("lookupLeads", lookupLeads),
    addToList: traced("addToList", (listId: ListId, ids: ReadonlyArray<LeadId>) => membership(listId, ids, "add")),
    removeFromList: traced("removeFromList", (listId: ListId, ids: ReadonlyArray<LeadId>) => membership(listId, ids, "remove")),
    importLeads: traced("importLeads", importLeads),
    importCsv: (listId, csv) => Effect.withSpan(importCsv(listId, csv), "MarketoClient.importCsv"),
    importStatus: traced("importStatus", importStatus),
    importFailures: traced("importFailures", (batchId: ImportBatchId) => importReport(batchId, "failures")),
    importWarnings: traced("importWarnings", (batchId: ImportBatchId) => importReport(batchId, "warnings")),
    listHasLeads: traced("listHasLeads", listHasLeads),
    describeLeadFields: traced("describeLeadFields", describeLeadFields),
    listMembers: traced("listMembers", listMembers)
  })
})

export const layer = Layer.effect(MarketoApi, make)
