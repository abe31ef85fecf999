// AUDIENCE_KEYS: which audience keys ingest accepts events for. A comma-separated list of exact
// keys and `prefix*` patterns; without it every key is accepted (up to MAX_AUDIENCES).
import { Either } from "effect"

export interface AudienceKeyPatterns {
  readonly exact: ReadonlySet<string>
  readonly prefixes: ReadonlyArray<string>
}

/** The setting's value as patterns, or why it cannot be (never quoting the value). */
export const parseAudienceKeys = (value: string): Either.Either<AudienceKeyPatterns, string> => {
  const entries = value.split(",").map((e) => e.trim())
  if (entries.some((e) => e === "")) return Either.left("has an empty entry: separate keys with single commas")
  const exact = new Set<string>()
  const prefixes: Array<string> = []
  for (const entry of entries) {
    const star = entry.indexOf("*")
    if (star === -1) exact.add(entry)
    else if (star === entry.length - 1 && entry.length > 1) prefixes.push(entry.slice(0, -1))
    else return Either.left("may hold `*` only at the end of a pattern with a prefix (like `engage_*`)")
    if (entry.length > 255) return Either.left("has an entry longer than 255 characters (an audience key)")
  }
  return Either.right({ exact, prefixes })
}

export const allowsKey = (patterns: AudienceKeyPatterns, key: string): boolean =>
  patterns.exact.has(key) || patterns.prefixes.some((prefix) => key.startsWith(prefix))
