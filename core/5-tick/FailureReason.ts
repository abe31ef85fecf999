// A failure or a defect as a person reads it: its tag and a short message, for lastError, the
// quarantine and the tick's record.
import { Cause } from "effect"
import type { QuarantineReason } from "../2-ledger/Quarantine.js"

/** The tag and message of a failure or a defect, short enough to show. */
export const reasonOf = (cause: Cause.Cause<unknown>): QuarantineReason => {
  const error = Cause.squash(cause)
  const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Defect"
  const message = error instanceof Error || (typeof error === "object" && error !== null && "message" in error)
    ? String((error as { message: unknown }).message)
    : String(error)
  return { tag, message: message.slice(0, 500) }
}
