// Step effects on a few emails, for property tests of what applies, cuts and stores them.
import fc from "fast-check"
import type { Email } from "../../../core/1-events/Email.js"
import type { ImportBatchId, LeadId, ListId } from "../../../core/1-events/Ids.js"
import type { StepEffect } from "../../../core/4-apply/StepEffect.js"

export const emails = Array.from({ length: 24 }, (_, i) => `p${i}@example.com` as Email)
const pick = fc.integer({ min: 0, max: emails.length - 1 })
const some = (max: number) => fc.uniqueArray(pick, { minLength: 1, maxLength: max }).map((is) => is.map((i) => emails[i]!))

export const effect: fc.Arbitrary<StepEffect> = fc.oneof(
  fc.record({ es: some(8), synced: fc.boolean() }).map(({ es, synced }): StepEffect => ({ _tag: "MembershipConfirmed", emails: es, synced })),
  some(6).map((es): StepEffect => ({ _tag: "LeadIdsLearned", ids: es.map((email, i) => ({ email, leadIds: [(i + 1) as LeadId] })) })),
  some(4).map((es): StepEffect => ({ _tag: "EmailsRefused", refused: es.map((email) => ({ email, code: "1003" })) })),
  fc.record({ es: some(8), batch: fc.integer({ min: 1, max: 3 }) }).map(({ batch, es }): StepEffect => ({ _tag: "ImportStarted", batchIds: [batch as ImportBatchId], emails: es })),
  fc.record({ batch: fc.integer({ min: 1, max: 3 }), ok: fc.boolean() })
    .map(({ batch, ok }): StepEffect => ({ _tag: "ImportEnded", batchId: batch as ImportBatchId, status: ok ? "Complete" : "Failed", failed: [] })),
  fc.constant<StepEffect>({ _tag: "ListLost", listId: 9 as ListId, at: 1 })
)

