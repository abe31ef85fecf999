// One fact from the CDP: at `timestamp`, `user` did (member) or did not (!member) belong to
// `audience` with `email`. Events fan out to one change per distinct email.
import { Schema } from "effect"
import { Email } from "./Email.js"
import { AudienceClass, AudienceKey, ListId } from "./Ids.js"

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
  externalListId: Schema.optional(ListId)
}) {}
