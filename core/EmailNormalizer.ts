// The one door from untrusted text to an `Email`: trimmed, lower-cased for identity, and checked
// against the subset of RFC 5321 that Marketo accepts, so a bad address is rejected at ingest with
// a reason instead of failing later inside a Marketo call.
import { Either } from "effect"
import type { Email } from "./Email.js"

const maxLength = 254
const maxLocalLength = 64
const localPart = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/
const domainLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
const nonAscii = /[^\x00-\x7f]/

const quote = (raw: string) => JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw)

export const normalizeEmail = (raw: string): Either.Either<Email, string> => {
  const email = raw.trim().toLowerCase()
  if (email.length === 0) return Either.left("email is empty")
  if (nonAscii.test(email)) return Either.left(`email ${quote(raw)} contains non-ASCII characters`)
  if (email.length > maxLength) return Either.left(`email ${quote(raw)} is longer than ${maxLength} characters`)
  const at = email.lastIndexOf("@")
  const local = email.slice(0, at)
  const domain = email.slice(at + 1)
  const labels = domain.split(".")
  const valid = at > 0 &&
    local.length <= maxLocalLength &&
    localPart.test(local) &&
    labels.length >= 2 &&
    labels.every((label) => domainLabel.test(label)) &&
    !/^[0-9]+$/.test(labels[labels.length - 1] ?? "")
  return valid ? Either.right(email as Email) : Either.left(`email ${quote(raw)} is not a valid address`)
}
