// Removing an audience leaves a tombstone: the time of the removal. Events for the key older than
// it are ignored wherever they are met (at ingest, and in the fold for those already waiting in the
// inbox), so replaying an old body cannot bring a removed audience back; newer events start the
// audience afresh.
import type { AudienceKey } from "../1-events/Ids.js"
import type { InboxEntry } from "./Inbox.js"

/** Epoch ms each removed audience was removed at, by key. */
export type RemovedAt = ReadonlyMap<string, number>

/** An event of `audience` at `timestamp` came before the audience was removed. */
export const isBuried = (removedAt: RemovedAt, audience: AudienceKey, timestamp: number): boolean => {
  const at = removedAt.get(audience)
  return at !== undefined && timestamp < at
}

export interface Unburied {
  readonly entry: InboxEntry
  /** Events dropped per audience (distinct message ids: an event is one change per email). */
  readonly ignored: ReadonlyMap<AudienceKey, number>
}

/** The entry without what came before its audience's removal. The same entry when nothing did. */
export const withoutBuried = (entry: InboxEntry, removedAt: RemovedAt): Unburied => {
  if (removedAt.size === 0) return { entry, ignored: new Map() }
  const dropped = new Map<AudienceKey, Set<string>>()
  const keep = <A extends { readonly audience: AudienceKey; readonly timestamp: number; readonly messageId: string }>(item: A) => {
    if (!isBuried(removedAt, item.audience, item.timestamp)) return true
    dropped.set(item.audience, (dropped.get(item.audience) ?? new Set()).add(item.messageId))
    return false
  }
  const memberships = entry.memberships.filter(keep)
  if (dropped.size === 0) return { entry, ignored: new Map() }
  return {
    entry: { ...entry, memberships },
    ignored: new Map([...dropped].map(([audience, ids]) => [audience, ids.size]))
  }
}
