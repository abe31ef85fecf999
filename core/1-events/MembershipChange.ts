// One fact from the CDP: at `timestamp`, `user` did (member) or did not (!member) belong to
// `audience` with `email`. Events fan out to one change per distinct email.
import { Schema } from "effect"
import { Email } from "./Email.js"
import { AudienceClass, AudienceKey, ListId } from "./Ids.js"
import { LeadFieldValues } from "./LeadFields.js"

export class MembershipChange extends Schema.Class<MembershipChange>("MembershipChange")({
  audience: AudienceKey,
  audienceClass: AudienceClass,
  /** `userId`, else `anonymousId` prefixed with `anon:` so the two never collide. */
  user: Schema.String.pipe(Schema.minLength(1)),
  email: Email,
  member: Schema.Boolean,
  /** Event time, epoch milliseconds. */
  timestamp: Schema.Number.pipe(Schema.int()),
  messageId: Schema.String.pipe(Schema.minLength(1)),
  /** `context.personas.external_audience_id` when the sender names an existing list. */
  externalListId: Schema.optional(ListId),
  /** The member's mapped traits at `timestamp`, by Marketo field name (core/1-events/LeadFields.ts). */
  fields: Schema.optional(LeadFieldValues)
}) {}

/**
 * One accepted event's word on one user: what is stored and folded. It fans out to one change per
 * email only when folded, so a member with a hundred emails costs a hundred emails, not a hundred
 * copies of the audience, user and message id.
 */
export const MembershipEvent = Schema.Struct({
  audience: AudienceKey,
  audienceClass: AudienceClass,
  user: Schema.String.pipe(Schema.minLength(1)),
  member: Schema.Boolean,
  timestamp: Schema.Number.pipe(Schema.int()),
  messageId: Schema.String.pipe(Schema.minLength(1)),
  externalListId: Schema.optional(ListId),
  fields: Schema.optional(LeadFieldValues),
  /** Distinct normalised emails; none for a member without email. */
  emails: Schema.Array(Email)
})
export type MembershipEvent = typeof MembershipEvent.Type

/** One change per email of the event. Its fields were validated when the event was decoded. */
export const fanOut = (event: MembershipEvent): ReadonlyArray<MembershipChange> => {
  const { audience, audienceClass, emails, externalListId, fields, member, messageId, timestamp, user } = event
  // Every email of the event gets the same fields (one object, shared).
  const extra = { ...(externalListId === undefined ? {} : { externalListId }), ...(fields === undefined ? {} : { fields }) }
  return emails.map((email) =>
    new MembershipChange({ audience, audienceClass, user, email, member, timestamp, messageId, ...extra }, { disableValidation: true })
  )
}
