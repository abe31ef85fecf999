// The one door from untrusted text to an `Email`: trimmed, lower-cased for identity, and checked
// against the practical subset of RFC 5321 that Marketo accepts (an unquoted dot-atom local part,
// a dotted host name). A bad address is rejected at ingest with a reason that names it, instead of
// failing later inside a Marketo call where nobody sees which event carried it.
import { Either } from "effect"
import type { Email } from "./Email.js"

const maxLength = 254
const maxLocalLength = 64
const maxLabelLength = 63
// RFC 5322 atext (lower case only: the address is lower-cased first).
const atom = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+$/
const label = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/
const nonAscii = /[^\x00-\x7f]/
const spaceCommaOrControl = /[\x00-\x20,\x7f]/

const quote = (raw: string) => JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw)

/** Why the (trimmed, lower-cased, ASCII) address is not one Marketo accepts, if it is not. */
const syntaxProblem = (email: string): string | undefined => {
  if (spaceCommaOrControl.test(email)) return "it contains a space, a comma or a control character"
  if (email.includes("\"")) return "quoted local parts are not accepted"
  const parts = email.split("@")
  if (parts.length === 1) return "it has no @"
  if (parts.length > 2) return "it has more than one @"
  const [local = "", domain = ""] = parts
  if (local.length === 0) return "nothing before the @"
  if (local.length > maxLocalLength) return `the part before the @ is longer than ${maxLocalLength} characters`
  if (!local.split(".").every((part) => atom.test(part))) {
    return "the part before the @ has a character that is not allowed, or a misplaced dot"
  }
  if (domain.length === 0) return "nothing after the @"
  const labels = domain.split(".")
  if (labels.length < 2) return "the domain has no dot"
  for (const part of labels) {
    if (part.length === 0) return "the domain has an empty label"
    if (part.length > maxLabelLength) return `a domain label is longer than ${maxLabelLength} characters`
    if (!label.test(part)) return `the domain label ${JSON.stringify(part)} is not letters, digits and inner hyphens`
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? "")) return "the top-level domain is numeric"
  return undefined
}

/**
 * Trims and lower-cases `raw`, then checks it. Left is a reason naming the value, fit to show to
 * the person who sent the event.
 */
export const normalizeEmail = (raw: string): Either.Either<Email, string> => {
  const trimmed = raw.trim()
  if (trimmed.length === 0) return Either.left("email is empty")
  // Checked before lower-casing: some non-ASCII letters (the Kelvin sign) lower-case to ASCII.
  if (nonAscii.test(trimmed)) return Either.left(`email ${quote(raw)} contains non-ASCII characters`)
  const email = trimmed.toLowerCase()
  if (email.length > maxLength) return Either.left(`email ${quote(raw)} is longer than ${maxLength} characters`)
  const problem = syntaxProblem(email)
  return problem === undefined
    ? Either.right(email as Email)
    : Either.left(`email ${quote(raw)} is not a valid address: ${problem}`)
}
