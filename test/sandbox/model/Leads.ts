// Leads: created and found by email (case-insensitive, and one email may belong to two leads, as
// Marketo allows), the lookup `GET /rest/v1/leads.json` and the upsert `POST /rest/v1/leads.json`,
// which stores the lead field values each record carries (model/LeadFields.ts).
import type { Answers } from "./Answers.js"
import { iso } from "./Answers.js"
import { applyFields, fieldRefusal, partitionRefusal, standardFields } from "./LeadFields.js"
import { pageOffset, pageSize } from "./Paging.js"
import type { Lead, SandboxState } from "./SandboxState.js"

/** The JSON body of an upsert (and of a membership change, which reads `input` only). */
export interface LeadsBody {
  input?: Array<Record<string, unknown>>
  action?: string
  lookupField?: string
  partitionName?: unknown
}

export const defaultLeadFields = "id,email,firstName,lastName,updatedAt,createdAt"

export const createLead = (s: SandboxState, email: string, now: number): Lead => {
  const id = s.nextId++
  const lead: Lead = { id, email: email.trim(), createdAt: now, updatedAt: now, fields: new Map() }
  s.leads.set(id, lead)
  const key = email.trim().toLowerCase()
  s.byEmail.set(key, [...(s.byEmail.get(key) ?? []), id])
  return lead
}

/** The first lead of the email, or a new one. */
export const upsertLead = (s: SandboxState, email: string, now: number): Lead => {
  const found = s.byEmail.get(email.trim().toLowerCase())?.[0]
  if (found !== undefined) return s.leads.get(found)!
  return createLead(s, email, now)
}

const standardNames = new Set(standardFields.map((f) => f.name))

/** The asked fields of a lead (the id always); a standard field without a value is null, as Marketo answers. */
export const leadFields = (lead: Lead, fields: ReadonlyArray<string>) => {
  const own: Record<string, unknown> = { id: lead.id, email: lead.email, createdAt: iso(lead.createdAt), updatedAt: iso(lead.updatedAt) }
  const out: Record<string, unknown> = { id: lead.id }
  for (const f of fields) {
    if (Object.prototype.hasOwnProperty.call(own, f)) out[f] = own[f]
    else if (lead.fields.has(f)) out[f] = lead.fields.get(f)
    else if (standardNames.has(f)) out[f] = null
  }
  return out
}

/** `GET /rest/v1/leads.json?filterType=email|id&filterValues=…`, paged. */
export const lookupLeads = (s: SandboxState, answers: Answers, params: URLSearchParams) => {
  const filterType = params.get("filterType")
  const values = (params.get("filterValues") ?? "").split(",").filter((v) => v !== "")
  if (filterType === null || values.length === 0) return answers.fail("1003", "filterType and filterValues are required")
  if (values.length > s.config.batchSize) return answers.fail("1003", `Too many filter values, maximum is ${s.config.batchSize}`)
  const fields = (params.get("fields") ?? defaultLeadFields).split(",")
  let ids: Array<number>
  if (filterType === "email") ids = values.flatMap((v) => s.byEmail.get(v.trim().toLowerCase()) ?? [])
  else if (filterType === "id") ids = values.map(Number).filter((id) => s.leads.has(id))
  else return answers.fail("1035", `Unsupported filter type for target subscription: ${filterType}`)
  if (ids.length > s.config.maxFilterMatches) return answers.fail("1003", `More than ${s.config.maxFilterMatches} leads match the filter`)
  const size = pageSize(s.config, params)
  if (size === undefined) return answers.fail("1003", `Invalid batchSize, maximum is ${s.config.batchSize}`)
  const offset = pageOffset(params)
  if (offset === undefined) return answers.fail("1003", "Invalid nextPageToken")
  const page = ids.slice(offset, offset + size)
  const more = offset + size < ids.length
  return answers.ok(page.map((id) => leadFields(s.leads.get(id)!, fields)), more ? { nextPageToken: btoa(String(offset + size)) } : {})
}

/** `POST /rest/v1/leads.json`: createOrUpdate, createOnly or updateOnly by email, one outcome per record. */
export const upsertLeads = (s: SandboxState, answers: Answers, body: LeadsBody, now: number) => {
  const input = body.input ?? []
  const action = body.action ?? "createOrUpdate"
  if (input.length === 0) return answers.fail("701", "input cannot be blank")
  if (input.length > s.config.batchSize) return answers.fail("1003", `Batch size exceeds ${s.config.batchSize}`)
  if ((body.lookupField ?? "email") !== "email") return answers.fail("1006", `Field '${body.lookupField}' not found`)
  if (!["createOrUpdate", "createOnly", "updateOnly"].includes(action)) return answers.fail("1003", `Invalid action ${action}`)
  const partition = partitionRefusal(s.config, body.partitionName)
  return answers.ok(input.map((record) => {
    const email = typeof record["email"] === "string" ? record["email"].trim() : ""
    if (email === "") return { status: "skipped", reasons: [{ code: "1003", message: "Value for required field 'email' not specified" }] }
    const refusal = partition ?? fieldRefusal(s.config, Object.keys(record))
    if (refusal !== undefined) return { status: "skipped", reasons: [refusal] }
    const matches = s.byEmail.get(email.toLowerCase()) ?? []
    if (matches.length > 1) return { status: "skipped", reasons: [{ code: "1007", message: "Multiple lead match lookup criteria" }] }
    if (matches.length === 1) {
      if (action === "createOnly") return { status: "skipped", reasons: [{ code: "1005", message: "Lead already exists" }] }
      const lead = s.leads.get(matches[0]!)!
      lead.updatedAt = now
      applyFields(lead, record)
      return { id: lead.id, status: "updated" }
    }
    if (action === "updateOnly") return { status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }
    const lead = createLead(s, email, now)
    applyFields(lead, record)
    if (typeof body.partitionName === "string") lead.partition = body.partitionName
    return { id: lead.id, status: "created" }
  }))
}
