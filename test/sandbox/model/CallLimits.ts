// Marketo's limits on calls: the request size (414 over the URI limit, 413 over the body limit),
// calls in flight (615), the rolling window (606) and the daily quota that resets at midnight US
// Central (607), and the codes Marketo does not count against the window or the quota.
import { centralDay } from "../CentralTime.js"
import type { Answers } from "./Answers.js"
import type { SandboxRequest, SandboxResponse } from "./SandboxRequest.js"
import type { SandboxState } from "./SandboxState.js"

const encoder = new TextEncoder()

/** Answers with these codes are not counted by Marketo. */
const uncounted = ["601", "602", "604", "605", "608", "611"]

/** 414 for a URI over the limit (the Asset API's is longer), 413 for a body over it (imports take more). */
export const sizeRefusal = (s: SandboxState, request: SandboxRequest, path: string): SandboxResponse | undefined => {
  const uriLimit = path.startsWith("/rest/asset/") ? s.config.maxAssetUriBytes : s.config.maxUriBytes
  if (encoder.encode(request.url).byteLength > uriLimit) return { status: 414, headers: { "content-type": "text/html" }, body: "<html><body>414 Request-URI Too Large</body></html>" }
  const limit = path.startsWith("/bulk/v1/leads.json") ? s.config.maxImportBytes : s.config.maxBodyBytes
  if (request.body.byteLength > limit) return { status: 413, headers: { "content-type": "text/html" }, body: "<html><body>413 Request Entity Too Large</body></html>" }
  return undefined
}

/**
 * 615 for a call arriving while `maxConcurrency` calls are in flight (identity calls are not
 * limited); `answers` must be those of an Asset API call when the path is one.
 */
export const busyRefusal = (s: SandboxState, answers: Answers, path: string): SandboxResponse | undefined => {
  if (path.startsWith("/identity/") || s.inFlight < s.config.maxConcurrency) return undefined
  return answers.fail("615", "Concurrent access limit reached")
}

/** With `countRefusals`, a call refused for rate or concurrency uses the day's quota (never the window); whether it did. */
export const countRefusal = (s: SandboxState, now: number): boolean => {
  if (!s.config.countRefusals) return false
  rollDay(s, now)
  if (s.usedToday >= s.config.dailyQuota) return false
  s.usedToday++
  return true
}

const rollDay = (s: SandboxState, now: number) => {
  const today = centralDay(now)
  if (today !== s.day) {
    s.day = today
    s.usedToday = 0
  }
}

/** Counts the call in the window and the day, or answers 606 / 607 when either is full. */
export const admitCall = (s: SandboxState, answers: Answers, now: number): SandboxResponse | undefined => {
  s.window = s.window.filter((t) => t > now - s.config.windowMillis)
  if (s.window.length >= s.config.callsPerWindow) {
    return answers.fail("606", `Max rate limit '${s.config.callsPerWindow}' exceeded with in '${s.config.windowMillis / 1000}' secs`)
  }
  rollDay(s, now)
  if (s.usedToday >= s.config.dailyQuota) return answers.fail("607", "Daily quota reached")
  s.window.push(now)
  s.usedToday++
  return undefined
}

/** Whether an admitted call's answer counts; one that does not is taken back out of the window and the day. */
export const settleCount = (s: SandboxState, response: SandboxResponse): boolean => {
  const code = (JSON.parse(response.headers["content-type"]?.includes("json") ? response.body : "{}") as { errors?: Array<{ code: string }> }).errors?.[0]?.code
  const counted = code === undefined || !uncounted.includes(code)
  if (!counted) {
    s.window.pop()
    s.usedToday--
  }
  return counted
}

/** The calls counted on the Chicago day of `now`, as if other integrations had used them. */
export const useQuota = (s: SandboxState, usedToday: number, now: number) => {
  s.day = centralDay(now)
  s.usedToday = Math.max(0, Math.floor(usedToday))
}
