// Credentials on every route. Ingest: HTTP Basic with the write key as user name (Segment's
// libraries), Bearer INGEST_TOKEN, or X-Signature = hex HMAC-SHA1 of the raw body with
// INGEST_SECRET (Segment's Webhooks destination). Admin: Bearer ADMIN_TOKEN, or Basic with it as
// password (so a browser can open the status page). Comparisons are constant-time: both sides are
// hashed first so their lengths leak nothing either.
const encoder = new TextEncoder()

const sha256 = (text: string) => crypto.subtle.digest("SHA-256", encoder.encode(text))

export const constantTimeEqual = async (a: string, b: string): Promise<boolean> => {
  const [x, y] = await Promise.all([sha256(a), sha256(b)])
  return crypto.subtle.timingSafeEqual(x, y)
}

const present = (secret: string | undefined): secret is string => secret !== undefined && secret.trim() !== ""

interface Presented {
  readonly bearer?: string
  readonly basicUser?: string
  readonly basicPassword?: string
}

export const presentedCredentials = (request: Request): Presented => {
  const header = request.headers.get("authorization") ?? ""
  const [scheme, value = ""] = header.split(/\s+/, 2)
  if (scheme?.toLowerCase() === "bearer") return { bearer: value }
  if (scheme?.toLowerCase() === "basic") {
    let decoded = ""
    try {
      decoded = atob(value)
    } catch {
      return {}
    }
    const colon = decoded.indexOf(":")
    return colon < 0 ? { basicUser: decoded } : { basicUser: decoded.slice(0, colon), basicPassword: decoded.slice(colon + 1) }
  }
  return {}
}

export const hmacSha1Hex = async (secret: string, body: ArrayBuffer): Promise<string> => {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-1" }, false, ["sign"])
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, body))
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("")
}

export const ingestAuthorized = async (
  request: Request,
  body: ArrayBuffer,
  secrets: { readonly token: string | undefined; readonly secret: string | undefined },
  allowSignature: boolean
): Promise<boolean> => {
  const presented = presentedCredentials(request)
  if (present(secrets.token)) {
    if (presented.bearer !== undefined && (await constantTimeEqual(presented.bearer, secrets.token))) return true
    // Segment's libraries send the write key as the Basic user name with an empty password.
    if (presented.basicUser !== undefined && (await constantTimeEqual(presented.basicUser, secrets.token))) return true
  }
  const signature = request.headers.get("x-signature")
  if (allowSignature && present(secrets.secret) && signature !== null) {
    return constantTimeEqual(signature.trim().toLowerCase(), await hmacSha1Hex(secrets.secret, body))
  }
  return false
}

export const adminAuthorized = async (request: Request, token: string | undefined): Promise<boolean> => {
  if (!present(token)) return false
  const presented = presentedCredentials(request)
  const candidate = presented.bearer ?? presented.basicPassword
  return candidate !== undefined && constantTimeEqual(candidate, token)
}
