// What the staged file's effects do to the record, applied once or again (a journal replayed, a
// flush's carried entry): a part counted once, the file moved into the imports in flight when
// sent, its batch id and its parts' deletion recorded; and its parts read back as one CSV stream.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Stream } from "effect"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, ImportBatchId } from "../../../core/1-events/Ids.js"
import { newRecord } from "../../../core/2-ledger/AudienceShards.js"
import type { ImportRef } from "../../../core/2-ledger/ImportsInFlight.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { withImportEffect } from "../../../core/4-apply/ImportRecord.js"
import { stagedCsv } from "../../../core/4-apply/StagedImport.js"
import type { StepEffect } from "../../../core/4-apply/StepEffect.js"
import { StateStore } from "../../../core/ports/StateStore.js"
import { makeStateStoreMemory } from "../../../core/ports/StateStoreMemory.js"

const key = "big" as AudienceKey
const ref = -1 as ImportRef
const rows = (part: number, n: number) => Array.from({ length: n }, (_, i) => `p${part}-${i}@example.com` as Email)
const staged = (part: number, n: number): StepEffect => ({ _tag: "ImportStaged", ref, part, emails: rows(part, n), bytes: 1_000 * (part + 1), columns: [], at: 60_000 * part })
type ImportEffect = Parameters<typeof withImportEffect>[1]
const apply = (effects: ReadonlyArray<StepEffect>) => effects.reduce((r, e) => withImportEffect(r, e as ImportEffect), newRecord(key, "audience"))

describe("staged file effects", () => {
  it("counts each part once however often the journal is applied, and keeps a sample spread over the file", () => {
    const once = apply([staged(0, 500), staged(1, 700), staged(2, 300)])
    const again = apply([staged(0, 500), staged(1, 700), staged(0, 500), staged(2, 300), staged(1, 700), staged(2, 300)])
    expect(again).toEqual(once)
    expect(once.staged).toMatchObject({ ref, parts: 3, rows: 1_500, bytes: 6_000, since: 0 })
    expect(once.staged!.sample.length).toBeLessThanOrEqual(300)
    for (const part of [0, 1, 2]) expect(once.staged!.sample.some((e) => e.startsWith(`p${part}-`))).toBe(true)
    expect(once.nextImportRef).toBe(2)
  })

  it("sent: in flight under its reference, then its batch id; parts deleted; a part applied after changes nothing", () => {
    const parts = [staged(0, 500), staged(1, 700)]
    const sending: StepEffect = { _tag: "StagedSending", ref, at: 120_000 }
    const started: StepEffect = { _tag: "StagedStarted", ref, batchId: 77 as ImportBatchId }
    const deleted: StepEffect = { _tag: "StagedPartsDeleted", ref }
    const sent = apply([...parts, sending])
    expect(sent.staged).toBeUndefined()
    expect(sent.imports).toMatchObject([{ id: ref, sentAt: 120_000, rows: 1_200 }])
    expect(sent.stagedLeft).toEqual([{ ref, parts: 2 }])
    const running = apply([...parts, sending, started, deleted])
    expect(running.pendingImports).toEqual([77])
    expect(running.imports).toEqual([{ id: ref, sentAt: 120_000, rows: 1_200, batchId: 77 }])
    expect(running.stagedLeft).toBeUndefined()
    // Replayed in full, or a part's entry carried after the send: the same record.
    expect(apply([...parts, sending, started, deleted, ...parts, sending, started, deleted])).toEqual(running)
    // Its end, polled by batch id, clears both.
    const ended = withImportEffect(running, { _tag: "ImportEnded", batchId: 77 as ImportBatchId, ref, status: "Complete", failed: [] })
    expect(ended.pendingImports).toEqual([])
    expect(ended.imports).toEqual([])
  })

  it.effect("the file reads back as its header and its parts in order, one at a time", () =>
    Effect.gen(function*() {
      const store = yield* makeStateStoreMemory()
      yield* store.set(StateKeys.stagedPart(key, ref, 0), "a@example.com,Ada\r\n")
      yield* store.set(StateKeys.stagedPart(key, ref, 1), "b@example.com,\"Hopper, G\"\r\n")
      const file = { ref, columns: ["firstName"], parts: 2, rows: 2, bytes: 0, since: 0, sample: [] }
      const text = yield* Stream.mkString(stagedCsv(key, file)).pipe(Effect.provideService(StateStore, store))
      expect(text).toBe("email,firstName\r\na@example.com,Ada\r\nb@example.com,\"Hopper, G\"\r\n")
      expect(Option.isSome(yield* store.get(StateKeys.stagedPart(key, ref, 1)))).toBe(true)
    }))
})
