// What a person does by hand in the in-memory Marketo (MarketoApiMemory.ts): merge two leads (the
// loser's id is gone, the winner takes its lists), delete a list (later calls answer 1013), rename
// one (its id stays).
import { Effect, Ref } from "effect"
import type { Email } from "../1-events/Email.js"
import type { LeadId, ListId } from "../1-events/Ids.js"

interface EditableState {
  readonly leads: ReadonlyMap<LeadId, Email>
  readonly leadsByEmail: ReadonlyMap<string, ReadonlyArray<LeadId>>
  readonly lists: ReadonlyMap<ListId, { readonly name: string; readonly members: ReadonlySet<LeadId> }>
}

export const personEdits = <S extends EditableState>(state: Ref.Ref<S>) => ({
  mergeLeads: (loserId: LeadId, winnerId: LeadId) =>
    Ref.update(state, (s) => {
      const email = s.leads.get(loserId)
      if (email === undefined || !s.leads.has(winnerId)) return s
      const leads = new Map(s.leads)
      leads.delete(loserId)
      const byEmail = new Map(s.leadsByEmail)
      const rest = (byEmail.get(email.toLowerCase()) ?? []).filter((id) => id !== loserId)
      if (rest.length === 0) byEmail.delete(email.toLowerCase())
      else byEmail.set(email.toLowerCase(), rest)
      const lists = new Map([...s.lists].map(([id, l]) => {
        if (!l.members.has(loserId)) return [id, l] as const
        const members = new Set(l.members)
        members.delete(loserId)
        members.add(winnerId)
        return [id, { ...l, members }] as const
      }))
      return { ...s, leads, leadsByEmail: byEmail, lists }
    }),
  deleteList: (name: string) => Ref.update(state, (s) => ({ ...s, lists: new Map([...s.lists].filter(([, l]) => l.name !== name)) })),
  renameList: (name: string, to: string) =>
    Ref.update(state, (s) => ({ ...s, lists: new Map([...s.lists].map(([id, l]) => [id, l.name === name ? { ...l, name: to } : l] as const)) })),
  leadIdsOf: (email: string) => Effect.map(Ref.get(state), (s): ReadonlyArray<LeadId> => s.leadsByEmail.get(email.toLowerCase()) ?? [])
})
