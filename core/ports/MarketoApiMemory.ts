// An in-memory Marketo behind the MarketoApi port, for pure tests of the interpreter and the sync:
// folders, static lists, leads matched by email case-insensitively, membership with Marketo's
// per-record outcomes (1004 unknown lead, 1015 → notMember, 709 duplicate name), lead field values
// (an upsert or import sets the values it carries; describe lists the fields), and bulk imports
// that finish after a set number of polls, or after a set time. `control` lets a test fail a
// chosen call before it runs, lose its answer after it ran, or kill the program either side of it;
// and do what a person does by hand (merge leads, delete or rename a list, delete a lead).
import { Clock, Effect, Layer, Option, Ref, Stream } from "effect"
import type { Email } from "../1-events/Email.js"
import type { ImportBatchId, LeadId, ListId } from "../1-events/Ids.js"
import { MarketoAnswerLost, MarketoRejected, MarketoTransient } from "../marketo/MarketoErrors.js"
import { type ImportStatus, MarketoApi, type MarketoError, type MembershipOutcome } from "./MarketoApi.js"
import { csvReader } from "./CsvMemory.js"
import { personEdits } from "./PersonEditsMemory.js"
import { defaultFolder, defaultMemoryLeadFields, type ImportJobState, type MarketoMemoryControl, type MarketoMemoryOptions, type MarketoMemoryState } from "./MarketoMemoryState.js"

export { defaultFolder, defaultMemoryLeadFields } from "./MarketoMemoryState.js"
export type { MarketoMemoryControl, MarketoMemoryOptions, MarketoMemoryState } from "./MarketoMemoryState.js"

export const makeMarketoMemory = Effect.fn("MarketoApiMemory.make")(function*(options: MarketoMemoryOptions = {}) {
  const state = yield* Ref.make<MarketoMemoryState>({
    folders: options.folders ?? [defaultFolder],
    lists: new Map(),
    leads: new Map(),
    leadsByEmail: new Map(),
    fields: new Map(),
    imports: new Map(),
    nextId: 1000,
    calls: 0
  })
  const failures = yield* Ref.make(new Map<number, MarketoError | "crash" | "crash-after" | "lose">())
  const failNext = yield* Ref.make<ReadonlyArray<MarketoError>>([])

  /**
   * Count the call; fail it if a test asked so; else run `f` on the state (and then, if asked,
   * lose its answer or kill the program). `safeToRepeat`: what a lost answer surfaces as.
   */
  const call = <A>(f: (s: MarketoMemoryState) => readonly [A, MarketoMemoryState] | MarketoError, safeToRepeat = true): Effect.Effect<A, MarketoError> =>
    Effect.flatMap(Ref.modify(state, (s) => [s.calls + 1, { ...s, calls: s.calls + 1 }] as const), (n) =>
      Effect.flatMap(Effect.zip(Ref.get(failures), Ref.modify(failNext, (queue): readonly [MarketoError | undefined, ReadonlyArray<MarketoError>] => [queue.at(0), queue.slice(1)])), ([fails, next]) => {
        const planned = next ?? fails.get(n)
        if (planned === "crash") return Effect.interrupt
        if (planned !== undefined && typeof planned !== "string") return Effect.fail(planned)
        return Effect.flatMap(Effect.zipRight(settleImports, Ref.get(state)), (s) => {
          const out = f(s)
          if (!Array.isArray(out)) return Effect.fail(out as MarketoError)
          const [a, next] = out as readonly [A, MarketoMemoryState]
          const ran = Effect.as(Ref.set(state, next), a)
          if (planned === "crash-after") return Effect.zipRight(ran, Effect.interrupt)
          if (planned === "lose") {
            const lost = { code: "network", message: "the answer was lost" }
            return Effect.zipRight(ran, Effect.fail(safeToRepeat ? new MarketoTransient(lost) : new MarketoAnswerLost(lost)))
          }
          return ran
        })
      }))

  const leadsOf = (s: MarketoMemoryState, email: string): ReadonlyArray<LeadId> => s.leadsByEmail.get(email.toLowerCase()) ?? []

  /** The leads of one call: the maps are copied once per call, not once per lead. */
  const leadDraft = (s: MarketoMemoryState) => {
    const leads = new Map(s.leads)
    const byEmail = new Map(s.leadsByEmail)
    const fields = new Map(s.fields)
    let nextId = s.nextId
    const create = (email: string): LeadId => {
      const id = nextId++ as LeadId
      const lower = email.toLowerCase()
      leads.set(id, lower as Email)
      byEmail.set(lower, [...(byEmail.get(lower) ?? []), id])
      return id
    }
    return {
      find: (email: string): ReadonlyArray<LeadId> => byEmail.get(email.toLowerCase()) ?? [],
      create,
      upsert: (email: string, values?: Readonly<Record<string, string>>): readonly [LeadId, "created" | "updated"] => {
        const existing = byEmail.get(email.toLowerCase())?.[0]
        const result = existing !== undefined ? [existing, "updated"] as const : [create(email), "created"] as const
        // Only the values sent change: a field not sent keeps its value.
        if (values !== undefined) fields.set(result[0], { ...fields.get(result[0]), ...values })
        return result
      },
      into: (base: MarketoMemoryState): MarketoMemoryState => ({ ...base, leads, leadsByEmail: byEmail, fields, nextId })
    }
  }

  const withMembers = (s: MarketoMemoryState, listId: ListId, members: ReadonlySet<LeadId>): MarketoMemoryState => {
    const list = s.lists.get(listId)!
    return { ...s, lists: new Map(s.lists).set(listId, { ...list, members }) }
  }

  /** An import that has run: its leads upserted and put on its list (if the list still exists). */
  const runImport = (s: MarketoMemoryState, batchId: ImportBatchId, job: ImportJobState): MarketoMemoryState => {
    const draft = leadDraft(s)
    const ids: Array<LeadId> = []
    const failures: Array<{ email: string; reason: string }> = []
    const warnings: Array<{ email: string; reason: string }> = []
    for (const email of job.emails) {
      const refused = options.refuse?.get(email)
      if (refused !== undefined) failures.push({ email, reason: refused })
      else if (draft.find(email).length > 1) warnings.push({ email, reason: "Multiple lead match lookup criteria" })
      else ids.push(draft.upsert(email, job.fields?.get(email))[0])
    }
    let next = draft.into(s)
    const list = next.lists.get(job.listId)
    if (list !== undefined) next = withMembers(next, job.listId, new Set([...list.members, ...ids]))
    return { ...next, imports: new Map(next.imports).set(batchId, { ...job, polls: Number.POSITIVE_INFINITY, failures, warnings }) }
  }

  /** With `importMillis`, imports whose time has come run before any call, polled or not. */
  const settleImports: Effect.Effect<void> = options.importMillis === undefined || options.failImports === true
    ? Effect.void
    : Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Ref.update(state, (s) => {
        let next = s
        for (const [batchId, job] of s.imports) {
          if (job.polls !== Number.POSITIVE_INFINITY && job.readyAt !== undefined && job.readyAt <= now) next = runImport(next, batchId, job)
        }
        return next
      }))

  const unknownList = (listId: ListId) => new MarketoRejected({ code: "1013", message: `Static list ${listId} not found` })

  /** Marketo's per-record outcomes: 1004 for an unknown lead; on remove, 1015 for a non-member. */
  const changeMembership = (listId: ListId, leadIds: ReadonlyArray<LeadId>, kind: "add" | "remove") =>
    call((s) => {
      const list = s.lists.get(listId)
      if (list === undefined) return unknownList(listId)
      const members = new Set(list.members)
      const out = leadIds.map((leadId): MembershipOutcome => {
        if (!s.leads.has(leadId)) return { leadId, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }
        if (kind === "add") {
          members.add(leadId)
          return { leadId, status: "added" }
        }
        return members.delete(leadId) ? { leadId, status: "removed" } : { leadId, status: "notMember", reasons: [{ code: "1015", message: "Lead not in list" }] }
      })
      return [out, withMembers(s, listId, members)]
    })

  const api: typeof MarketoApi.Service = {
    findFolders: (name) => call((s) => [s.folders.filter((f) => f.name === name), s]),
    findStaticList: (name) =>
      call((s) => {
        const found = [...s.lists.values()].find((l) => l.name === name)
        return [found === undefined ? Option.none() : Option.some({ id: found.id, name: found.name, folderId: found.folderId }), s]
      }),
    getStaticList: (listId) =>
      call((s) => {
        const found = s.lists.get(listId)
        return [found === undefined ? Option.none() : Option.some({ id: found.id, name: found.name, folderId: found.folderId }), s]
      }),
    createStaticList: (name, folderId) =>
      call((s) => {
        if (!s.folders.some((f) => f.id === folderId)) return new MarketoRejected({ code: "710", message: "Parent folder not found" })
        if ([...s.lists.values()].some((l) => l.name === name)) return new MarketoRejected({ code: "709", message: `Static List '${name}' already exists` })
        const id = s.nextId as ListId
        const list = { id, name, folderId, members: new Set<LeadId>() }
        return [{ id, name, folderId }, { ...s, nextId: s.nextId + 1, lists: new Map(s.lists).set(id, list) }]
      }, false),
    upsertLeads: (emails, values) =>
      call((s) => {
        const draft = leadDraft(s)
        const out = emails.map((email) => {
          const refused = options.refuse?.get(email)
          if (refused !== undefined) return { email, status: "skipped" as const, reasons: [{ code: refused, message: "refused" }] }
          if (draft.find(email).length > 1) return { email, status: "skipped" as const, reasons: [{ code: "1007", message: "Multiple lead match lookup criteria" }] }
          const [leadId, status] = draft.upsert(email, values?.get(email))
          return { email, status, leadId }
        })
        return [out, draft.into(s)]
      }),
    lookupLeads: (emails) => call((s) => [emails.map((email) => ({ email, leadIds: leadsOf(s, email) })), s]),
    addToList: (listId, leadIds) => changeMembership(listId, leadIds, "add"),
    removeFromList: (listId, leadIds) => changeMembership(listId, leadIds, "remove"),
    importLeads: (listId, emails, fields) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        call((s) => {
          if (!s.lists.has(listId)) return unknownList(listId)
          const batchId = s.nextId as ImportBatchId
          const job: ImportJobState = { listId, emails, fields, polls: 0, failures: [], ...(options.importMillis === undefined ? {} : { readyAt: now + options.importMillis }) }
          return [[{ batchId }], { ...s, nextId: s.nextId + 1, imports: new Map(s.imports).set(batchId, job) }]
        }, false)),
    // The file's rows as the import reads them: its header names the columns after `email`.
    // Read as it streams, a part at a time (rows split across chunks are joined), never as one string.
    importCsv: (listId, csv) => {
      const reader = csvReader()
      const encoder = new TextEncoder()
      let bytes = 0
      return Effect.flatMap(Stream.runForEach(csv.body, (text) => Effect.sync(() => {
        bytes += encoder.encode(text).length
        reader.chunk(text)
      })), () => {
        // The declared size is what the planner weighed against Marketo's 10 MB: a file whose parts
        // do not add up to it is a bug in staging, loud in every test that sends one.
        if (bytes !== csv.bytes) return Effect.dieMessage(`the import's body has ${bytes} bytes where ${csv.bytes} were declared`)
        const { emails, fields } = reader.end()
        return Effect.map(api.importLeads(listId, emails, fields), (jobs) => jobs[0]!)
      })
    },
    importStatus: (batchId) =>
      call<ImportStatus>((s) => {
        const job = s.imports.get(batchId)
        if (job === undefined) return new MarketoRejected({ code: "1013", message: `Import ${batchId} not found` })
        const polls = job.polls + 1
        const base = { batchId, leadsProcessed: 0, rowsFailed: 0, rowsWithWarning: 0 }
        const ended = job.polls === Number.POSITIVE_INFINITY
        if (!ended && (job.readyAt !== undefined || polls <= (options.pollsUntilComplete ?? 0))) {
          return [{ ...base, status: "Importing" as const }, { ...s, imports: new Map(s.imports).set(batchId, { ...job, polls }) }]
        }
        if (options.failImports === true) return [{ ...base, status: "Failed" as const, message: "import failed" }, s]
        const next = ended ? s : runImport(s, batchId, job)
        const done = next.imports.get(batchId)!
        const warned = done.warnings?.length ?? 0
        return [{ ...base, status: "Complete" as const, leadsProcessed: job.emails.length - done.failures.length - warned, rowsFailed: done.failures.length, rowsWithWarning: warned }, next]
      }),
    importFailures: (batchId) => call((s) => [s.imports.get(batchId)?.failures ?? [], s]),
    importWarnings: (batchId) => call((s) => [s.imports.get(batchId)?.warnings ?? [], s]),
    listHasLeads: (listId, leadIds) =>
      call((s) => {
        const list = s.lists.get(listId)
        if (list === undefined) return unknownList(listId)
        return [leadIds.filter((id) => list.members.has(id)), s]
      }),
    describeLeadFields: () => call((s) => [options.leadFields ?? defaultMemoryLeadFields, s]),
    listMembers: (listId, token) =>
      call((s) => {
        const list = s.lists.get(listId)
        if (list === undefined) return unknownList(listId)
        const after = token === undefined ? -1 : Number(token)
        const ids = [...list.members].filter((id) => id > after).sort((a, b) => a - b)
        const page = ids.slice(0, options.listPageSize ?? 300)
        const members = page.map((leadId) => ({ leadId, email: s.leads.get(leadId) ?? null }))
        return [{ members, ...(page.length < ids.length ? { nextPageToken: String(page.at(-1)) } : {}) }, s]
      })
  }

  const control: MarketoMemoryControl = {
    state: Ref.get(state),
    members: (name) =>
      Effect.map(Ref.get(state), (s) => {
        const list = [...s.lists.values()].find((l) => l.name === name)
        return list === undefined ? [] : [...list.members].map((id) => s.leads.get(id) ?? `#${id}`).sort()
      }),
    failCall: (n, error) => Ref.update(failures, (m) => new Map(m).set(n, error)),
    failNext: (error) => Ref.update(failNext, (queue) => [...queue, error]),
    fieldsOf: (email) => Effect.map(Ref.get(state), (s) => {
      const id = s.leadsByEmail.get(email.toLowerCase())?.[0]
      return id === undefined ? undefined : s.fields.get(id)
    }),
    crashAtCall: (n) => Ref.update(failures, (m) => new Map(m).set(n, "crash")),
    deleteLead: (email) =>
      Ref.update(state, (s) => {
        const ids = new Set(s.leadsByEmail.get(email.toLowerCase()) ?? [])
        const lists = new Map([...s.lists].map(([id, l]) => [id, { ...l, members: new Set([...l.members].filter((m) => !ids.has(m))) }]))
        const leadsByEmail = new Map(s.leadsByEmail)
        leadsByEmail.delete(email.toLowerCase())
        return { ...s, lists, leadsByEmail, leads: new Map([...s.leads].filter(([id]) => !ids.has(id))) }
      }),
    crashAfterCall: (n) => Ref.update(failures, (m) => new Map(m).set(n, "crash-after")),
    loseAnswer: (n) => Ref.update(failures, (m) => new Map(m).set(n, "lose")),
    ...personEdits(state),
    addLead: (email) =>
      Ref.modify(state, (s) => {
        const draft = leadDraft(s)
        const id = draft.create(email)
        return [id, draft.into(s)]
      }),
    addList: (name, folderId, emails = []) =>
      Ref.modify(state, (s) => {
        const id = s.nextId as ListId
        const members = new Set([...s.leads.entries()].filter(([, e]) => emails.includes(e)).map(([l]) => l))
        return [id, { ...s, nextId: s.nextId + 1, lists: new Map(s.lists).set(id, { id, name, folderId, members }) }]
      })
  }
  return { api, control }
})

export const layerMarketoMemory = (options?: MarketoMemoryOptions) =>
  Layer.effect(MarketoApi, Effect.map(makeMarketoMemory(options), ({ api }) => api))
