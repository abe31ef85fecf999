// Which endpoint answers an admitted call: method and path to folders and lists, leads,
// membership, bulk import or usage. A known resource asked with the wrong method is 605, any
// other path 610.
import { centralDate } from "../CentralTime.js"
import type { Answers } from "./Answers.js"
import { importReport, importStatusOf, startImport } from "./BulkImport.js"
import { describeLeads } from "./LeadFields.js"
import { type LeadsBody, lookupLeads, upsertLeads } from "./Leads.js"
import { checkMembership, members } from "./Membership.js"
import type { SandboxRequest, SandboxResponse } from "./SandboxRequest.js"
import type { SandboxState } from "./SandboxState.js"
import { assetListById, browseLeadDbLists, browseLists, createList, deleteList, folderByName, leadDbListById, listsByName } from "./StaticLists.js"

const decoder = new TextDecoder()

const knownPaths = [
  /^\/rest\/asset\/v1\/folder\/byName\.json$/,
  /^\/rest\/asset\/v1\/staticLists\.json$/,
  /^\/rest\/asset\/v1\/staticList\/(byName|\d+)\.json$/,
  /^\/rest\/asset\/v1\/staticList\/\d+\/delete\.json$/,
  /^\/rest\/v1\/lists(\/\d+)?\.json$/,
  /^\/rest\/v1\/lists\/\d+\/leads(\/ismember)?\.json$/,
  /^\/rest\/v1\/leads\.json$/,
  /^\/rest\/v1\/leads\/describe2\.json$/,
  /^\/rest\/v1\/stats\/usage\.json$/,
  /^\/bulk\/v1\/leads(\/batch\/\d+(\/(failures|warnings))?)?\.json$/
]

export const route = (
  s: SandboxState,
  answers: Answers,
  method: string,
  path: string,
  params: URLSearchParams,
  request: SandboxRequest,
  contentType: string,
  now: number
): SandboxResponse => {
  const form = () => new URLSearchParams(decoder.decode(request.body))
  const jsonBody = (): LeadsBody | undefined => {
    try {
      return JSON.parse(decoder.decode(request.body)) as never
    } catch {
      return undefined
    }
  }
  let m: RegExpExecArray | null
  if (method === "GET" && path === "/rest/asset/v1/folder/byName.json") return folderByName(s, answers, params)
  if (method === "POST" && path === "/rest/asset/v1/staticLists.json") return createList(s, answers, form(), now)
  if (method === "GET" && path === "/rest/asset/v1/staticLists.json") return browseLists(s, answers, params)
  if (method === "GET" && path === "/rest/asset/v1/staticList/byName.json") return listsByName(s, answers, params)
  if ((m = /^\/rest\/asset\/v1\/staticList\/(\d+)\.json$/.exec(path)) && method === "GET") return assetListById(s, answers, Number(m[1]))
  if ((m = /^\/rest\/asset\/v1\/staticList\/(\d+)\/delete\.json$/.exec(path)) && method === "POST") return deleteList(s, answers, Number(m[1]))
  if (method === "GET" && path === "/rest/v1/lists.json") return browseLeadDbLists(s, answers, params)
  if ((m = /^\/rest\/v1\/lists\/(\d+)\.json$/.exec(path)) && method === "GET") return leadDbListById(s, answers, Number(m[1]))
  if ((m = /^\/rest\/v1\/lists\/(\d+)\/leads\/ismember\.json$/.exec(path)) && method === "GET") return checkMembership(s, answers, Number(m[1]), params)
  if ((m = /^\/rest\/v1\/lists\/(\d+)\/leads\.json$/.exec(path))) {
    const answer = members(s, answers, method, Number(m[1]), params, jsonBody, now)
    if (answer !== undefined) return answer
  }
  if (path === "/rest/v1/leads.json") {
    if (method === "GET") return lookupLeads(s, answers, params)
    if (method === "POST") {
      if (!contentType.includes("json")) return answers.fail("612", "Invalid Content Type")
      const body = jsonBody()
      if (body === undefined) return answers.fail("609", "Invalid JSON")
      return upsertLeads(s, answers, body, now)
    }
  }
  if (method === "GET" && path === "/rest/v1/leads/describe2.json") return describeLeads(s, answers)
  if (method === "POST" && path === "/bulk/v1/leads.json") return startImport(s, answers, params, request, contentType, now)
  if ((m = /^\/bulk\/v1\/leads\/batch\/(\d+)\.json$/.exec(path)) && method === "GET") return importStatusOf(s, answers, Number(m[1]), now)
  if ((m = /^\/bulk\/v1\/leads\/batch\/(\d+)\/(failures|warnings)\.json$/.exec(path)) && method === "GET") {
    return importReport(s, answers, Number(m[1]), m[2] as "failures" | "warnings")
  }
  if (method === "GET" && path === "/rest/v1/stats/usage.json") {
    return answers.ok([{ date: centralDate(now), total: s.usedToday, users: [{ userId: "api-user@example.com", count: s.usedToday }] }])
  }
  // A known resource asked with the wrong method is 605; anything else is 610.
  if (knownPaths.some((known) => known.test(path))) return answers.fail("605", "Request method not supported")
  return answers.fail("610", "Requested resource not found")
}
