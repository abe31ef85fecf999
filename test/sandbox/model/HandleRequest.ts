// One call through the model, in Marketo's order: imports that have ended take effect; identity
// calls get a token; then size limits, the Bearer token, injected faults, the window and the
// quota; then the endpoint answers, and an answer Marketo does not count is taken back. Every call
// is logged, with its outcome.
import { Faults } from "../SandboxFaults.js"
import { Answers } from "./Answers.js"
import { advanceImports } from "./BulkImport.js"
import { admitCall, countRefusal, settleCount, sizeRefusal } from "./CallLimits.js"
import { type CallRecord, endpointOf } from "./CallRecord.js"
import { checkBearer, issueToken, revokeTokens } from "./Identity.js"
import { route } from "./Router.js"
import type { SandboxInput, SandboxRequest, SandboxResponse } from "./SandboxRequest.js"
import type { SandboxState } from "./SandboxState.js"

const decoder = new TextDecoder()
const encoder = new TextEncoder()

/** How a call was answered, for the log: "ok", Marketo's code, the HTTP status, or "dropped". */
const outcomeOf = (response: SandboxResponse): string => {
  if (response.drop === true) return "dropped"
  if (response.status !== 200) return `HTTP ${response.status}`
  if (response.headers["content-type"]?.includes("json")) {
    const body = JSON.parse(response.body) as { success?: boolean; errors?: Array<{ code: string }> }
    if (body.success === false) return body.errors?.[0]?.code ?? "error"
  }
  return "ok"
}

/** The state moves on (in place) and the answer comes back; `now` is the model's time. */
export const handleRequest = (s: SandboxState, input: SandboxInput, now: number, logCall: (call: CallRecord) => void): SandboxResponse => {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(input.headers)) headers[name.toLowerCase()] = value
  const request: SandboxRequest = { ...input, headers, body: typeof input.body === "string" ? encoder.encode(input.body) : input.body }
  const url = new URL(request.url, "http://sandbox.local")
  const path = url.pathname
  // The Asset API carries `warnings: []` on every answer, failures included.
  const answers = new Answers(s, path.startsWith("/rest/asset/"))
  const faults = new Faults(s.faults)
  let tokenOrdinal: number | undefined
  const record = (response: SandboxResponse, counted: boolean, injected = false): SandboxResponse => {
    const outcome = outcomeOf(response)
    logCall({
      at: now, method: request.method, path, endpoint: endpointOf(request.method, path), status: response.status, outcome, counted,
      ...(injected ? { injected } : {}),
      ...(tokenOrdinal === undefined ? {} : { token: tokenOrdinal })
    })
    return response
  }
  advanceImports(s, now)
  if (path.startsWith("/identity/")) {
    // Identity answers no envelope codes of its own; only a rule aimed at it (502, drop, …) hits it.
    const fault = faults.pick(path, true)
    if (fault === "revoke") revokeTokens(s)
    else if (fault === "lost") {
      // The token is issued (or the current one answered) and the answer lost.
      issueToken(s, request, url, now)
      return record(answers.fault("drop"), false, true)
    } else if (fault !== undefined) return record(answers.fault(fault), false, true)
    return record(issueToken(s, request, url, now), false)
  }
  const tooLarge = sizeRefusal(s, request, path)
  if (tooLarge !== undefined) return record(tooLarge, false)

  const bearer = checkBearer(s, answers, request, url, now)
  tokenOrdinal = bearer.ordinal
  if (bearer.refusal !== undefined) return record(bearer.refusal, false)

  const rule = faults.pickRule(path)
  const fault = rule?.kind
  if (fault === "revoke") {
    revokeTokens(s)
    return record(answers.fail("601", "Access token invalid"), false, true)
  }
  // An injected fault stands for a call Marketo refused or lost before it ran: it uses no window
  // or quota. A `lost` one runs the call first, as Marketo did, and only its answer is lost.
  if (fault !== undefined && fault !== "lost" && fault !== "latency") return record(answers.fault(fault), false, true)

  const refused = admitCall(s, answers, now)
  if (refused !== undefined) return record(refused, outcomeOf(refused) === "606" && countRefusal(s, now))

  let method = request.method.toUpperCase()
  const params = new URLSearchParams(url.search)
  const contentType = request.headers["content-type"] ?? ""
  if (method === "POST" && params.get("_method") === "GET") {
    method = "GET"
    for (const [k, v] of new URLSearchParams(decoder.decode(request.body))) params.append(k, v)
  }
  const response = route(s, answers, method, path, params, request, contentType, now)
  const counted = settleCount(s, response)
  if (fault === "lost") {
    // The call ran and counted; its answer never reaches the caller.
    const lost = rule?.as === "502" ? answers.fault("502") : answers.fault("drop")
    logCall({
      at: now, method: request.method, path, endpoint: endpointOf(request.method, path), status: lost.status,
      outcome: lost.drop === true ? "lost" : "lost 502", counted, injected: true, ran: outcomeOf(response),
      ...(tokenOrdinal === undefined ? {} : { token: tokenOrdinal })
    })
    return lost
  }
  return record(response, counted)
}
