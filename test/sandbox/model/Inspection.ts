// Reading the model without calling it, for tests, the soak and the dev page: counters by endpoint
// and outcome with the window and the day's use, a snapshot of folders, lists, leads and imports,
// and the members of a list by name.
import { centralDay, nextCentralMidnight } from "../CentralTime.js"
import type { SandboxState } from "./SandboxState.js"

/**
 * Calls by endpoint and by outcome (`ok`, a Marketo code, `HTTP 502`, `dropped`), and by both.
 * Given the model's time, the window and the day's use are as of that time (they otherwise move
 * on only with calls), with the next quota reset.
 */
export const counters = (s: SandboxState, now: number | undefined) => {
  const byEndpoint: Record<string, number> = {}
  const byOutcome: Record<string, number> = {}
  const byEndpointAndOutcome: Record<string, Record<string, number>> = {}
  for (const c of s.log) {
    byEndpoint[c.endpoint] = (byEndpoint[c.endpoint] ?? 0) + 1
    byOutcome[c.outcome] = (byOutcome[c.outcome] ?? 0) + 1
    const row = (byEndpointAndOutcome[c.endpoint] ??= {})
    row[c.outcome] = (row[c.outcome] ?? 0) + 1
  }
  return {
    calls: s.log.length,
    counted: s.log.filter((c) => c.counted).length,
    usedToday: now === undefined || centralDay(now) === s.day ? s.usedToday : 0,
    inWindow: now === undefined ? s.window.length : s.window.filter((t) => t > now - s.config.windowMillis).length,
    inFlight: s.inFlight,
    ...(now === undefined ? {} : { now, quotaResetsAt: nextCentralMidnight(now) }),
    byEndpoint,
    byOutcome,
    byEndpointAndOutcome
  }
}

export const snapshot = (s: SandboxState) => ({
  folders: s.config.folders,
  clockOffsetMillis: s.clockOffsetMillis,
  lists: [...s.lists.values()].map((l) => ({
    id: l.id,
    name: l.name,
    folderId: l.folderId,
    members: [...l.members].map((id) => s.leads.get(id)?.email ?? `#${id}`).sort()
  })),
  leads: [...s.leads.values()].map((l) => ({
    id: l.id,
    email: l.email,
    fields: Object.fromEntries(l.fields),
    ...(l.partition === undefined ? {} : { partition: l.partition })
  })),
  imports: [...s.imports.values()].map((j) => ({ batchId: j.batchId, listId: j.listId ?? null, rows: j.rows.length, createdAt: j.createdAt, startsAt: j.startsAt, endsAt: j.endsAt }))
})

const listNamed = (s: SandboxState, listName: string) => [...s.lists.values()].find((l) => l.name === listName)

/** Whether any lead of the email is on the list of that name (case as stored). */
export const isMember = (s: SandboxState, listName: string, email: string): boolean => {
  const list = listNamed(s, listName)
  if (list === undefined) return false
  return (s.byEmail.get(email.toLowerCase()) ?? []).some((id) => list.members.has(id))
}

/** The emails on the list of that name (lower-case), without building a snapshot of everything. */
export const memberEmails = (s: SandboxState, listName: string): Set<string> => {
  const list = listNamed(s, listName)
  const out = new Set<string>()
  for (const id of list?.members ?? []) {
    const email = s.leads.get(id)?.email
    if (email !== undefined) out.add(email.toLowerCase())
  }
  return out
}
