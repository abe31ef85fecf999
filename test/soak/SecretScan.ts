// The soak's search for secrets in everything the worker says: each log line and each answer is
// searched for the secrets the worker holds and for anything shaped like one of the sandbox's
// access tokens. A hit is named by where and which kind, never by its value.
import { marketoClientSecret } from "./WorkerHost.js"

export const ingestToken = "soak-ingest-token"
export const adminToken = "soak-admin-token"

/** The secrets the worker holds, by kind. */
const secrets: ReadonlyArray<readonly [string, string]> = [
  ["MARKETO_CLIENT_SECRET", marketoClientSecret],
  ["INGEST_TOKEN", ingestToken],
  ["ADMIN_TOKEN", adminToken]
]

/** The shape of the sandbox's access tokens. */
const sandboxAccessToken = /[0-9a-f]{8}-0000-4000-8000-[0-9a-f]{12}:sb/i

/** The ordinal of the sandbox token a call carried (the sandbox logs calls by it). */
export const tokenOrdinal = (authorization: string | undefined) => {
  const hex = /^bearer\s+([0-9a-f]{8})-0000-4000-8000-[0-9a-f]{12}:sb$/i.exec(authorization ?? "")?.[1]
  return hex === undefined ? undefined : Number.parseInt(hex, 16)
}

export class SecretScan {
  /** Outputs searched. */
  scanned = 0
  /** Where an output held one, and which kind. */
  readonly leaks: Array<string> = []

  scan(where: string, text: string) {
    this.scanned++
    for (const [kind, secret] of secrets) if (text.includes(secret)) this.leaks.push(`${kind} in ${where}`)
    if (sandboxAccessToken.test(text)) this.leaks.push(`a Marketo access token in ${where}`)
  }
}
