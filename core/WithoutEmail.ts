// Members without any email, per audience: the latest word per user (last writer wins), so the
// count shown to users is of distinct users who are members now — why a list is smaller than the
// audience. Kept in shards by a hash of the user id, so no value grows with the audience.
import { Schema } from "effect"
import type { MemberWithoutEmail } from "./EventDecoder.js"
import { DEFAULT_SHARD_COUNT, emailHash } from "./Sharding.js"

const Latest = Schema.Struct({ member: Schema.Boolean, timestamp: Schema.Number, messageId: Schema.String })
export const WithoutEmail = Schema.Record({ key: Schema.String, value: Latest })
export type WithoutEmail = typeof WithoutEmail.Type
export const WithoutEmailJson = Schema.parseJson(WithoutEmail)

export type LatestWord = Pick<MemberWithoutEmail, "user" | "member" | "timestamp" | "messageId">

export const foldWithoutEmail = (current: WithoutEmail, members: ReadonlyArray<LatestWord>): WithoutEmail => {
  // A Map, and Object.fromEntries to return: a user id such as "__proto__" stays plain data.
  const next = new Map(Object.entries(current))
  for (const m of members) {
    const prev = next.get(m.user)
    const newer = prev === undefined || m.timestamp > prev.timestamp || (m.timestamp === prev.timestamp && m.messageId > prev.messageId)
    if (newer) next.set(m.user, { member: m.member, timestamp: m.timestamp, messageId: m.messageId })
  }
  return Object.fromEntries(next)
}

/** Distinct users who are members now. */
export const currentMembers = (latest: WithoutEmail): number => {
  let n = 0
  for (const user of Object.keys(latest)) if (latest[user]!.member) n++
  return n
}

export const withoutEmailShardOf = (user: string): number => emailHash(user) % DEFAULT_SHARD_COUNT
