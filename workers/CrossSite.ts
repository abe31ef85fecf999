// Cross-site request forgery: a browser that signed in to the status page sends its Basic
// credentials again on whatever a foreign page makes it send, forms included. So every admin
// request that changes something is refused when the browser says it comes from another site
// (Sec-Fetch-Site), or, from a browser that does not send that, from another origin (Origin); and
// Basic credentials also need the token the status page puts in its forms (an HMAC of a time with
// the admin token). Bearer credentials, which no browser attaches on its own, need no token:
// scripts keep working unchanged.
import { constantTimeEqual, presentedCredentials } from "./Auth.js"
import { readCapped } from "./CappedBody.js"
import { problem } from "./Http.js"

/** The form field that carries the token. */
export const formTokenField = "form_token"

/** How long a page's forms stay usable: a working day, without holding a page open for ever. */
export const formTokenLifetimeMillis = 12 * 3_600_000

const encoder = new TextEncoder()

const hmacHex = async (secret: string, message: string) => {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`status page form ${message}`)))
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("")
}

/** A token for the forms of a page rendered at `now`: the time and its HMAC with the admin token. */
export const formToken = async (adminToken: string, now: number): Promise<string> => {
  const issued = Math.floor(now).toString(36)
  return `${issued}.${await hmacHex(adminToken, issued)}`
}

export const formTokenValid = async (adminToken: string, token: string, now: number): Promise<boolean> => {
  const [issued = "", mac = "", ...rest] = token.split(".")
  const at = parseInt(issued, 36)
  if (rest.length > 0 || !/^[0-9a-z]{1,12}$/.test(issued) || !Number.isSafeInteger(at)) return false
  // A minute of clock difference between invocations is tolerated; a token from the future is not.
  if (at > now + 60_000 || now - at > formTokenLifetimeMillis) return false
  return constantTimeEqual(mac, await hmacHex(adminToken, issued))
}

/** Why the browser's own headers show the request comes from another site, if they do. */
const foreignOrigin = (request: Request): string | undefined => {
  const site = request.headers.get("sec-fetch-site")
  if (site !== null) {
    return site === "same-origin" || site === "none" ? undefined : `the browser says this request comes from another site (Sec-Fetch-Site: ${site.slice(0, 20)})`
  }
  const origin = request.headers.get("origin")
  return origin === null || origin === new URL(request.url).origin ? undefined : "the browser says this request comes from another origin (Origin)"
}

const tokenOf = async (request: Request): Promise<string | undefined> => {
  if (!(request.headers.get("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) return undefined
  // A form of the page holds one short field; a copy is read so the route can still read its body.
  const body = await readCapped(request.clone(), 8 * 1024)
  return body === undefined ? undefined : new URLSearchParams(new TextDecoder().decode(body)).get(formTokenField) ?? undefined
}

/** 403 for a state-changing admin request a foreign page could have made; undefined to go on. */
export const refuseForgery = async (request: Request, adminToken: string): Promise<Response | undefined> => {
  if (request.method === "GET" || request.method === "HEAD") return undefined
  const foreign = foreignOrigin(request)
  if (foreign !== undefined) return problem(403, `refused: ${foreign}; the admin API changes nothing for other web pages`)
  if (presentedCredentials(request).bearer !== undefined) return undefined
  const token = await tokenOf(request)
  if (token !== undefined && (await formTokenValid(adminToken, token, Date.now()))) return undefined
  return problem(
    403,
    "refused: Basic credentials (a browser's) change something only with the status page's form token, and this one is missing, invalid or older than 12 hours: reload the page and try again; scripts send Authorization: Bearer ADMIN_TOKEN"
  )
}
