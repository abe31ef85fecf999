// Members without any email, per audience: the latest word per user (last writer wins), so the
// count shown to users is of distinct users who are members now — why a list is smaller than the
// audience. Kept in shards by a hash of the user id, so no value grows with the audience.
import { Schema } from "effect"
import type { MemberWithoutEmail } from "../1-events/EventDecoder.js"
import { DEFAULT_SHARD_COUNT, emailHash } from "./Sharding.js"

export const LatestWord = Schema.Struct({
  user: Schema.String,
  member: Schema.Boolean,
  timestamp: Schema.Number,
  messageId: Schema.String
})
export type LatestWord = typeof LatestWord.Type

// A list, not an object keyed by user id: user ids come from the internet, and one such as
// "__proto__" must stay data (objects keyed by it lose it when decoded or encoded).
export const WithoutEmail = Schema.Array(LatestWord)
export type WithoutEmail = typeof WithoutEmail.Type
export const WithoutEmailJson = Schema.parseJson(WithoutEmail)

/** The earlier layout: one value per audience, an object keyed by user id. */
export const UnshardedWithoutEmailJson = Schema.parseJson(
  Schema.Record({ key: Schema.String, value: LatestWord.pipe(Schema.omit("user")) })
)

export const withoutEmailShardOf = (user: string): number => emailHash(user) % DEFAULT_SHARD_COUNT

const newer = (a: LatestWord, b: LatestWord) =>
  a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.messageId > b.messageId)

export const foldWithoutEmail = (
  current: WithoutEmail,
  members: ReadonlyArray<Pick<MemberWithoutEmail, "user" | "member" | "timestamp" | "messageId">>
): WithoutEmail => {
  const latest = new Map(current.map((w) => [w.user, w]))
  for (const m of members) {
    const word: LatestWord = { user: m.user, member: m.member, timestamp: m.timestamp, messageId: m.messageId }
    const prev = latest.get(m.user)
    if (prev === undefined || newer(word, prev)) latest.set(m.user, word)
  }
  return [...latest.values()].sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0))
}

/** Distinct users who are members now. */
export const currentMembers = (words: WithoutEmail): number => words.filter((w) => w.member).length
