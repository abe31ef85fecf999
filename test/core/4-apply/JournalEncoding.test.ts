// A journal entry written with JSON.stringify reads back as the effects written, and as what
// encoding through the schema would have stored.
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import fc from "fast-check"
import { encodeJournal, JournalJson, type StepEffect } from "../../../core/4-apply/StepEffect.js"
import { effect } from "./EffectArbitrary.js"

const extra: fc.Arbitrary<StepEffect> = fc.oneof(
  fc.constant<StepEffect>({ _tag: "ListEnsured", listId: 7 as never, folderId: 3 as never }),
  fc.constant<StepEffect>({ _tag: "FieldsSent", sent: [{ email: "a@example.com" as never, digest: "d1" }] }),
  fc.constant<StepEffect>({ _tag: "ImportStaged", ref: -4 as never, part: 0, emails: ["b@example.com" as never], bytes: 30, columns: ["firstName"], at: 5 })
)

describe("encodeJournal", () => {
  it.prop("reads back through the schema as the effects written, and as the schema's own encoding reads back", [fc.array(fc.oneof(effect, extra), { maxLength: 10 })], ([effects]) => {
    const stored = encodeJournal(effects)
    const decoded = Schema.decodeUnknownSync(JournalJson)(stored)
    expect(decoded).toEqual(effects)
    expect(decoded).toEqual(Schema.decodeUnknownSync(JournalJson)(Schema.encodeSync(JournalJson)(effects)))
  })
})
