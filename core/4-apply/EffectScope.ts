// Which records a step effect changes: the emails it names (each with its part of the effect, so
// an effect can be cut to some of its emails), every record that carries an import or every
// record (an import's end or withdrawal, a list's loss), or no record (the audience's record
// alone). The journal's carry-over and the cutting of a tick's effects by shard both read it here.
import type { Email } from "../1-events/Email.js"
import type { StepEffect } from "./StepEffect.js"

export type EffectScope =
  | { readonly _tag: "Named"; readonly emails: ReadonlyArray<Email>; readonly only: (keep: (email: Email, i: number) => boolean) => StepEffect | undefined }
  | { readonly _tag: "Everywhere" }
  | { readonly _tag: "RecordOnly" }

const named = <A>(items: ReadonlyArray<A>, emailOf: (a: A) => Email, rebuild: (items: ReadonlyArray<A>) => StepEffect): EffectScope => ({
  _tag: "Named",
  emails: items.map(emailOf),
  only: (keep) => {
    const kept = items.filter((item, i) => keep(emailOf(item), i))
    return kept.length === 0 ? undefined : rebuild(kept)
  }
})

export const scopeOf = (effect: StepEffect): EffectScope => {
  switch (effect._tag) {
    case "ListEnsured":
    case "ImportChecked":
    case "StagedSending":
    case "StagedStarted":
    case "StagedPartsDeleted":
      return { _tag: "RecordOnly" }
    case "ImportNotSent":
    case "ImportEnded":
    case "ListLost":
      return { _tag: "Everywhere" }
    case "LeadIdsLearned":
      return named(effect.ids, (i) => i.email, (ids) => ({ ...effect, ids }))
    case "EmailsRefused":
      return named(effect.refused, (r) => r.email, (refused) => ({ ...effect, refused }))
    case "MembershipConfirmed":
    case "ImportSending":
    case "ImportStarted":
    case "ImportStaged":
      return named(effect.emails, (e) => e, (emails) => ({ ...effect, emails }) as StepEffect)
    case "FieldsSent":
      return named(effect.sent, (s) => s.email, (sent) => ({ ...effect, sent }))
  }
}
