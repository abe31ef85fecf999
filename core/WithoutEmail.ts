// Members without any email, per audience: the latest word per user (last writer wins), so the
// count shown to users is of distinct users who are members now — why a list is smaller than the
// audience.
import { Schema } from "effect"
import type { MemberWithoutEmail } from "./EventDecoder.js"

const Latest = Schema.Struct({ member: Schema.Boolean, timestamp: Schema.Number, messageId: Schema.String })
export const WithoutEmail = Schema.Record({ key: Schema.String, value: Latest })
export type WithoutEmail = typeof WithoutEmail.Type
export const WithoutEmailJson = Schema.parseJson(WithoutEmail)

export const foldWithoutEmail = (current: WithoutEmail, members: ReadonlyArray<MemberWithoutEmail>): WithoutEmail => {
  const next: Record<string, typeof Latest.Type> = { ...current }
  for (const m of members) {
    const prev = Object.prototype.hasOwnProperty.call(next, m.user) ? next[m.user] : undefined
    const newer = prev === undefined || m.timestamp > prev.timestamp || (m.timestamp === prev.timestamp && m.messageId > prev.messageId)
    if (newer) next[m.user] = { member: m.member, timestamp: m.timestamp, messageId: m.messageId }
  }
  return next
}
