// Credentials on every route. Ingest: HTTP Basic with the write key as user name (Segment's
// libraries), Bearer INGEST_TOKEN, or X-Signature = hex HMAC-SHA1 of the raw body with
// INGEST_SECRET (Segment's Webhooks destination). Admin: Bearer ADMIN_TOKEN, or Basic with it as
// password (so a browser can open the status page). Comparisons are constant-time: both sides are
// hashed first so their lengths leak nothing either.
const encoder = new TextEncoder()

const sha256 = (text: string) => crypto.subtle.digest("SHA-256", encoder.encode(text))

// Workers' crypto.subtle has timingSafeEqual; elsewhere (Deno) the digests, of equal length, are
// compared with every byte visited whatever differs.
const digestsEqual = (x: ArrayBuffer, y: ArrayBuffer): boolean => {
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: ArrayBuffer, b: ArrayBuffer) => boolean }
  if (typeof subtle.timingSafeEqual === "function") return subtle.timingSafeEqual(x, y)
  const [p, q] = [new Uint8Array(x), new Uint8Array(y)]
  let difference = p.length ^ q.length
  for (let i = 0; i < p.length; i++) difference |= p[i]! ^ (q[i] ?? 0)
  return difference === 0
}

export const constantTimeEqual = async (a: string, b: string): Promise<boolean> => {
  const [x, y] = await Promise.all([sha256(a), sha256(b)])
  return digestsEqual(x, y)
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

/**
 * Bearer INGEST_TOKEN, or the write key as Basic user name (Segment's libraries send it with an
 * empty password): decided from the headers alone, before any of the body is read.
 */
export const ingestTokenPresented = async (request: Request, token: string | undefined): Promise<boolean> => {
  if (!present(token)) return false
  const presented = presentedCredentials(request)
  if (presented.bearer !== undefined && (await constantTimeEqual(presented.bearer, token))) return true
  return presented.basicUser !== undefined && constantTimeEqual(presented.basicUser, token)
}

/** The request carries an X-Signature and there is a secret to check it with (it needs the body). */
export const signatureOffered = (request: Request, secret: string | undefined): secret is string =>
  present(secret) && request.headers.get("x-signature") !== null

export const signatureValid = async (request: Request, body: ArrayBuffer, secret: string): Promise<boolean> => {
  const signature = request.headers.get("x-signature")
  return signature !== null && constantTimeEqual(signature.trim().toLowerCase(), await hmacSha1Hex(secret, body))
}

export const adminAuthorized = async (request: Request, token: string | undefined): Promise<boolean> => {
  if (!present(token)) return false
  const presented = presentedCredentials(request)
  const candidate = presented.bearer ?? presented.basicPassword
  return candidate !== undefined && constantTimeEqual(candidate, token)
}
