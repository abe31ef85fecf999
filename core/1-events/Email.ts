// An email address as the sync identifies it: trimmed, lower-cased, ASCII, at most 254 characters.
// Only `normalizeEmail` (core/1-events/EmailNormalizer.ts) makes one from untrusted text.
import { Schema } from "effect"

export const Email = Schema.String.pipe(
  Schema.minLength(3),
  Schema.maxLength(254),
  Schema.pattern(/^[\x21-\x7e]+@[\x21-\x7e]+$/),
  Schema.brand("Email")
)
export type Email = typeof Email.Type
