// A shard's base as it is stored: a header line, then one line per email, sorted by the email as
// JSON (`"<email>"<TAB><record as JSON>`), every line ending in a newline. JSON never writes a
// raw tab or newline, so the lines can be searched as text: a fold finds the few records its
// changes name by binary search, and a compaction splices changed records in, without parsing the
// thousands of others. The work of a tick then follows its changes, not the size of its shards.
//
// Bases written before this layout are one JSON object; they are read whole, and the next
// compaction writes them as lines.
import type { AudienceKey } from "../1-events/Ids.js"
import type { EmailRecord, LedgerShard } from "./LedgerShard.js"
import { StateStoreFailure } from "../ports/StateStore.js"

interface Header {
  readonly audience: AudienceKey
  readonly shard: number
  readonly format: "lines"
  /** Emails in the base. */
  readonly size: number
}

/** A stored base, read: its records looked up one at a time, or parsed whole when a caller needs them all. */
export interface StoredBase {
  readonly audience: AudienceKey
  readonly shard: number
  /** Emails in the base. */
  readonly size: number
  /** The record of this email, decoded now (the caller owns it), if the base holds one. */
  readonly get: (email: string) => EmailRecord | undefined
  readonly has: (email: string) => boolean
  /** Every record, decoded (the caller owns them). */
  readonly whole: () => LedgerShard
  /** This base with these records put in (in place of the base's, or added): its text and size. */
  readonly withRecords: (records: Readonly<Record<string, EmailRecord>>) => { readonly text: string; readonly size: number }
}

const headerOf = (audience: AudienceKey, shard: number, size: number): string =>
  JSON.stringify({ audience, shard, format: "lines", size } satisfies Header)

/** A whole shard as base lines (its `outside` counts, which only an index has, are not kept). */
export const encodeBaseLines = (shard: LedgerShard): string => {
  const emails = Object.keys(shard.emails)
  const keyed = emails.map((email) => [JSON.stringify(email), email] as const)
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  const parts = [headerOf(shard.audience, shard.shard, keyed.length), "\n"]
  for (const [key, email] of keyed) parts.push(key, "\t", JSON.stringify(shard.emails[email]), "\n")
  return parts.join("")
}

/** Whether a stored value is a base in lines (and not a shard or index as one JSON object). */
export const isBaseLines = (text: string): boolean => {
  const end = text.indexOf("\n")
  return end > 0 && text.lastIndexOf("\"format\":\"lines\"", end) > 0
}

/** Where the line of `key` (an email as JSON) is, or where it would be inserted. */
interface Position {
  readonly start: number
  /** Just past its newline; equal to `start` when the key is not there. */
  readonly end: number
  readonly found: boolean
}

/** The line holding position `at`, starting no earlier than `floor` (a line start): where it starts and ends, and its key. */
const lineAt = (text: string, at: number, floor: number) => {
  const start = Math.max(floor, text.lastIndexOf("\n", at - 1) + 1)
  const tab = text.indexOf("\t", start)
  return { start, end: text.indexOf("\n", tab) + 1, key: text.slice(start, tab) }
}

/** Binary search among the lines that start in [from, to): `to` is a line start or the text's end. */
const search = (text: string, key: string, from: number, to = text.length): Position => {
  let lo = from
  let hi = to
  while (lo < hi) {
    const line = lineAt(text, (lo + hi) >>> 1, lo)
    if (line.key === key) return { start: line.start, end: line.end, found: true }
    if (line.key < key) lo = line.end
    else hi = line.start
  }
  return { start: lo, end: lo, found: false }
}

/**
 * Where `key` is at or after `from` (a line start), for a splice that visits the keys in order: the
 * search steps forward from where the last key was in doubling strides, then searches the last
 * stride by halves. When the records spliced are dense in the base, each costs a few comparisons
 * instead of a search of the whole rest of the base.
 */
const searchOnward = (text: string, key: string, from: number): Position => {
  let lo = from
  for (let stride = 256; lo + stride < text.length; stride *= 2) {
    const line = lineAt(text, lo + stride, lo)
    if (line.key === key) return { start: line.start, end: line.end, found: true }
    if (line.key > key) return search(text, key, lo, line.start)
    lo = line.end
  }
  return search(text, key, lo)
}

/**
 * A base in lines, read lazily. The caller checked `isBaseLines`. Its lines are parsed when looked
 * up, so a corrupt one is found then: thrown as a StateStoreFailure naming the key (`key`), which
 * the audience's failure reports as it would a base that does not decode at all.
 */
export const readBaseLines = (text: string, key = "base"): StoredBase => {
  const parse = <A>(json: string, what: string): A => {
    try {
      return JSON.parse(json) as A
    } catch (e) {
      throw new StateStoreFailure({ key, message: `stored ${what} does not decode: ${String(e).slice(0, 200)}` })
    }
  }
  const bodyStart = text.indexOf("\n") + 1
  const header = parse<Header>(text.slice(0, bodyStart - 1), "header")
  const lineOf = (email: string) => search(text, JSON.stringify(email), bodyStart)
  const recordAt = (p: Position): EmailRecord => parse<EmailRecord>(text.slice(text.indexOf("\t", p.start) + 1, p.end - 1), "record")
  return {
    audience: header.audience,
    shard: header.shard,
    size: header.size,
    get: (email) => {
      const p = lineOf(email)
      return p.found ? recordAt(p) : undefined
    },
    has: (email) => lineOf(email).found,
    whole: () => {
      // Lines become one JSON object by two replacements (no raw tab or newline is inside a value).
      const body = text.slice(bodyStart, Math.max(bodyStart, text.length - 1))
      const emails = body.length === 0 ? {} : parse<Record<string, EmailRecord>>(`{${body.replaceAll("\t", ":").replaceAll("\n", ",")}}`, "base")
      return { audience: header.audience, shard: header.shard, emails }
    },
    withRecords: (records) => {
      const keyed = Object.keys(records).map((email) => [JSON.stringify(email), email] as const)
      keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      const parts: Array<string> = []
      let at = bodyStart
      let size = header.size
      for (const [key, email] of keyed) {
        const p = searchOnward(text, key, at)
        parts.push(text.slice(at, p.start), key, "\t", JSON.stringify(records[email]), "\n")
        if (!p.found) size++
        at = p.end
      }
      parts.push(text.slice(at))
      return { text: headerOf(header.audience, header.shard, size) + "\n" + parts.join(""), size }
    }
  }
}

/** A base written before lines (one JSON object, decoded already), behind the same interface. */
export const wholeBase = (shard: LedgerShard): StoredBase => ({
  audience: shard.audience,
  shard: shard.shard,
  size: Object.keys(shard.emails).length,
  get: (email) => shard.emails[email],
  has: (email) => shard.emails[email] !== undefined,
  whole: () => ({ audience: shard.audience, shard: shard.shard, emails: { ...shard.emails } }),
  withRecords: (records) => {
    const emails = { ...shard.emails, ...records }
    return { text: encodeBaseLines({ audience: shard.audience, shard: shard.shard, emails }), size: Object.keys(emails).length }
  }
})
