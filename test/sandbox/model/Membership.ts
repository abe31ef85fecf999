// List membership: `/rest/v1/lists/{id}/leads.json` to read members a page at a time (the token is
// a cursor, so changes between pages neither shift nor repeat the rest), to add (POST) and to
// remove (DELETE) by id, and `…/leads/ismember.json` to check.
import type { Answers } from "./Answers.js"
import { defaultLeadFields, type LeadsBody, leadFields } from "./Leads.js"
import { firstAbove, pageOffset, pageSize } from "./Paging.js"
import type { SandboxResponse } from "./SandboxRequest.js"
import type { List, SandboxState } from "./SandboxState.js"

const listMembers = (s: SandboxState, answers: Answers, list: List, params: URLSearchParams) => {
  const size = pageSize(s.config, params)
  if (size === undefined) return answers.fail("1003", `Invalid batchSize, maximum is ${s.config.batchSize}`)
  // The token is a cursor (the last id answered), so members added or removed while a client
  // pages neither shift nor repeat the rest.
  const after = pageOffset(params)
  if (after === undefined) return answers.fail("1003", "Invalid nextPageToken")
  const ids = (list.sorted ??= [...list.members].sort((a, b) => a - b))
  const start = params.has("nextPageToken") ? firstAbove(ids, after) : 0
  const page = ids.slice(start, start + size)
  const fields = (params.get("fields") ?? defaultLeadFields).split(",")
  const result = page.map((id) => leadFields(s.leads.get(id)!, fields))
  const more = start + size < ids.length
  return answers.ok(result, { moreResult: more, ...(more ? { nextPageToken: btoa(`m${page[page.length - 1]!}`) } : {}) })
}

/** Adding a lead that is already a member still answers `added`. */
const addMember = (s: SandboxState, list: List, id: number, now: number) => {
  if (!s.leads.has(id)) return { id, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }
  if (!list.members.has(id)) {
    list.members.add(id)
    list.sorted = undefined
  }
  list.updatedAt = now
  return { id, status: "added" }
}

const removeMember = (s: SandboxState, list: List, id: number, now: number) => {
  if (!s.leads.has(id)) return { id, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }
  if (!list.members.delete(id)) return { id, status: "skipped", reasons: [{ code: "1015", message: "Lead not in list" }] }
  list.sorted = undefined
  list.updatedAt = now
  return { id, status: "removed" }
}

/** `GET /rest/v1/lists/{id}/leads/ismember.json?id=…`. */
export const checkMembership = (s: SandboxState, answers: Answers, listId: number, params: URLSearchParams) => {
  const list = s.lists.get(listId)
  if (list === undefined) return answers.fail("1013", "Static list not found")
  const ids = params.getAll("id").flatMap((v) => v.split(",")).map(Number)
  if (ids.length === 0) return answers.fail("701", "id cannot be blank")
  if (ids.length > s.config.batchSize) return answers.fail("1003", `Batch size exceeds ${s.config.batchSize}`)
  return answers.ok(ids.map((id) => (s.leads.has(id) ? { id, status: list.members.has(id) ? "memberof" : "notmemberof" } : { id, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] })))
}

/**
 * `/rest/v1/lists/{id}/leads.json`: GET reads members; POST adds and DELETE removes the ids given
 * as `?id=` or a JSON `input`. Another method answers nothing here once the ids are checked.
 */
export const members = (
  s: SandboxState,
  answers: Answers,
  method: string,
  listId: number,
  params: URLSearchParams,
  jsonBody: () => LeadsBody | undefined,
  now: number
): SandboxResponse | undefined => {
  const list = s.lists.get(listId)
  if (method === "GET") return list === undefined ? answers.fail("1013", "Static list not found") : listMembers(s, answers, list, params)
  const ids = params.has("id")
    ? params.getAll("id").flatMap((v) => v.split(",")).map(Number)
    : (jsonBody()?.input ?? []).map((r) => Number(r["id"]))
  if (ids.length === 0) return answers.fail("701", "id cannot be blank")
  if (ids.length > s.config.batchSize) return answers.fail("1003", `Batch size exceeds ${s.config.batchSize}`)
  if (list === undefined) return answers.fail("1013", "Static list not found")
  if (method === "POST") return answers.ok(ids.map((id) => addMember(s, list, id, now)))
  if (method === "DELETE") return answers.ok(ids.map((id) => removeMember(s, list, id, now)))
  return undefined
}
