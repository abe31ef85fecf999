// Marketo's response-level codes, by what the client should do (docs/marketo.md has the table).
import {
  MarketoAuthError,
  MarketoQuotaExhausted,
  MarketoRateLimited,
  MarketoRejected,
  MarketoTransient,
  MarketoUnknownError
} from "../../core/marketo/MarketoErrors.js"
import type { MarketoError } from "../../core/ports/MarketoApi.js"

const transient = new Set(["604", "608", "611", "614", "713", "719", "1016", "1019", "1029"])
const rejected = new Set(["605", "609", "610", "612", "613", "616", "701", "702", "703", "709", "710", "711", "1008", "1009", "1013"])

const hints: Record<string, string> = {
  "603": "Marketo denied access: the API user's role needs the Access API and Lead Database permissions (and the IP allow-list must admit Cloudflare)",
  "607": "Marketo's daily API quota is spent; calls resume at midnight US Central time",
  "710": "the folder does not exist: create it under Lead Database → Group Lists, or set MARKETO_FOLDER",
  "711": "MARKETO_FOLDER names a folder of the wrong type: use a folder under Lead Database → Group Lists",
  "1008": "the lead partition is refused: set MARKETO_PARTITION to a partition the API user's role may write",
  "1009": "this instance has lead partitions: set MARKETO_PARTITION to the partition new leads belong to"
}

export const classify = (code: string, message: string): MarketoError => {
  const text = hints[code] === undefined ? message : `${message} (${hints[code]})`
  if (code === "601" || code === "602" || code === "603") return new MarketoAuthError({ code, message: text })
  if (code === "606" || code === "615") return new MarketoRateLimited({ code, message: text, retryAfterMillis: 20_000 })
  if (code === "607") return new MarketoQuotaExhausted({ code, message: text })
  if (transient.has(code)) return new MarketoTransient({ code, message: text })
  if (rejected.has(code)) return new MarketoRejected({ code, message: text })
  return new MarketoUnknownError({ code, message: text })
}

/** Worth another try after a backoff: someone else's traffic, a passing fault, or an unknown code. */
export const isRetryable = (error: MarketoError): boolean =>
  // MarketoAnswerLost is not: the call may have run, and it was not safe to run twice.
  error._tag === "MarketoTransient" || error._tag === "MarketoRateLimited" || error._tag === "MarketoUnknownError"
