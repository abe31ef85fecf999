// Identity: access tokens issued by `/identity/oauth/token` for the configured client, the check of
// the Bearer token every other call carries (601 unknown or revoked, 602 expired), and revocation.
import type { Answers } from "./Answers.js"
import { json } from "./Answers.js"
import type { SandboxRequest, SandboxResponse } from "./SandboxRequest.js"
import type { SandboxState } from "./SandboxState.js"

const decoder = new TextDecoder()

/** `/identity/oauth/token`: the current token while it lasts, else a new one. */
export const issueToken = (s: SandboxState, request: SandboxRequest, url: URL, now: number): SandboxResponse => {
  if (url.pathname !== "/identity/oauth/token") return json(404, { error: "not_found" })
  const params = new URLSearchParams(url.search)
  if (request.method.toUpperCase() === "POST") for (const [k, v] of new URLSearchParams(decoder.decode(request.body))) params.set(k, v)
  if (params.get("grant_type") !== "client_credentials") return json(400, { error: "unsupported_grant_type", error_description: "Unsupported grant type" })
  if (params.get("client_id") !== s.config.clientId || params.get("client_secret") !== s.config.clientSecret) {
    return json(401, { error: "invalid_client", error_description: "Bad client credentials" })
  }
  const current = s.currentToken === undefined ? undefined : s.tokens.get(s.currentToken)
  if (s.currentToken === undefined || current === undefined || current <= now) {
    s.currentToken = `${(++s.tokenCounter).toString(16).padStart(8, "0")}-0000-4000-8000-${now.toString(16).padStart(12, "0").slice(-12)}:sb`
    s.tokens.set(s.currentToken, now + s.config.tokenLifetimeSeconds * 1000)
  }
  // Whole seconds left, rounded down as Marketo does (a fresh token says 3599).
  const expiresIn = Math.max(0, Math.floor((s.tokens.get(s.currentToken)! - now - 1) / 1000))
  return json(200, { access_token: s.currentToken, token_type: "bearer", expires_in: expiresIn, scope: "api-user@example.com" })
}

/**
 * The call's Bearer token: its ordinal (for the log, when it has the sandbox's shape) and the
 * refusal when it is missing, unknown, revoked or expired. The `access_token` query parameter is
 * not accepted.
 */
export const checkBearer = (s: SandboxState, answers: Answers, request: SandboxRequest, url: URL, now: number): {
  readonly ordinal: number | undefined
  readonly refusal: SandboxResponse | undefined
} => {
  const auth = request.headers["authorization"] ?? ""
  const token = /^bearer\s+(.+)$/i.exec(auth)?.[1]
  const parsed = token === undefined ? Number.NaN : Number.parseInt(/^([0-9a-f]{8})-0000-4000-8000-[0-9a-f]{12}:sb$/.exec(token)?.[1] ?? "", 16)
  const ordinal = Number.isFinite(parsed) ? parsed : undefined
  const refuse = (refusal: SandboxResponse) => ({ ordinal, refusal })
  if (url.searchParams.has("access_token") && token === undefined) return refuse(answers.fail("601", "Access token invalid"))
  if (token === undefined) return refuse(answers.fail("601", "Access token invalid"))
  const expiresAt = s.tokens.get(token)
  if (expiresAt === undefined) return refuse(answers.fail("601", "Access token invalid"))
  if (expiresAt <= now) return refuse(answers.fail("602", "Access token expired"))
  return { ordinal, refusal: undefined }
}

/** Every token stops working at once (601 until a new one is fetched). */
export const revokeTokens = (s: SandboxState) => {
  s.tokens.clear()
  s.currentToken = undefined
}
