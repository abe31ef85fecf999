// What a person does by hand in Marketo while integrations run: merge duplicate leads (the loser's
// id disappears into the winner, which keeps its own email and gains the loser's list
// memberships), delete a static list (every later call on it answers 1013), rename one (its id
// stays). None of these is a REST call; the shells reach them through control routes.
import type { Lead, SandboxState } from "./SandboxState.js"

/**
 * Merges lead `loserId` into `winnerId`, as Marketo's merge does: the winner stays with its own
 * email ("some value beats no value" and the winner wins conflicts), every list the loser was on
 * now holds the winner, and the loser's id is gone (calls naming it answer 1004).
 */
export const mergeLeads = (s: SandboxState, loserId: number, winnerId: number, now: number): Lead => {
  const loser = s.leads.get(loserId)
  const winner = s.leads.get(winnerId)
  if (loser === undefined || winner === undefined) throw new Error(`no lead ${loser === undefined ? loserId : winnerId}`)
  if (loserId === winnerId) throw new Error("a lead cannot be merged into itself")
  for (const list of s.lists.values()) {
    if (!list.members.delete(loserId)) continue
    list.members.add(winnerId)
    list.sorted = undefined
    list.updatedAt = now
  }
  s.leads.delete(loserId)
  const key = loser.email.toLowerCase()
  const rest = (s.byEmail.get(key) ?? []).filter((id) => id !== loserId)
  if (rest.length === 0) s.byEmail.delete(key)
  else s.byEmail.set(key, rest)
  if (winner.email === "" && loser.email !== "") {
    winner.email = loser.email
    s.byEmail.set(key, [...rest.filter((id) => id !== winnerId), winnerId])
  }
  winner.updatedAt = now
  return winner
}

/** Merges every lead of an email into its oldest (a person merging the duplicates of one address). */
export const mergeDuplicates = (s: SandboxState, email: string, now: number): number | undefined => {
  const ids = [...(s.byEmail.get(email.trim().toLowerCase()) ?? [])].sort((a, b) => a - b)
  const [winner, ...losers] = ids
  if (winner === undefined) return undefined
  for (const loser of losers) mergeLeads(s, loser, winner, now)
  return winner
}

/** A list deleted by hand: gone with its memberships; every later call on it answers 1013. */
export const deleteListByHand = (s: SandboxState, listId: number): boolean => s.lists.delete(listId)

/** A list renamed by hand: the id and the members stay. */
export const renameListByHand = (s: SandboxState, listId: number, name: string, now: number): boolean => {
  const list = s.lists.get(listId)
  if (list === undefined || name.trim() === "") return false
  list.name = name.trim()
  list.updatedAt = now
  return true
}
