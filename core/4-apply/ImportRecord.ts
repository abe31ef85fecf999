// What the import effects do to the audience's record: the imports it has in flight (sent, their
// rows, a sample of those whose answer was lost), its confirmed batches, the next local reference,
// and the count of rows imports refused.
import type { AudienceRecord } from "../2-ledger/AudienceRecord.js"
import { type ImportInFlight, sampleOf } from "../2-ledger/ImportsInFlight.js"
import { withPart } from "../2-ledger/StagedImport.js"
import type { ImportChecked, ImportEnded, ImportNotSent, ImportSending, ImportStaged, ImportStarted, StagedPartsDeleted, StagedSending, StagedStarted } from "./StepEffect.js"

type ImportEffect =
  | typeof ImportSending.Type
  | typeof ImportStarted.Type
  | typeof ImportNotSent.Type
  | typeof ImportChecked.Type
  | typeof ImportEnded.Type
  | typeof ImportStaged.Type
  | typeof StagedSending.Type
  | typeof StagedStarted.Type
  | typeof StagedPartsDeleted.Type

const without = (imports: ReadonlyArray<ImportInFlight> | undefined, id: number) => (imports ?? []).filter((i) => i.id !== id && i.batchId !== id)

export const withImportEffect = (record: AudienceRecord, effect: ImportEffect): AudienceRecord => {
  switch (effect._tag) {
    case "ImportSending":
      // Idempotent: a journal carried over by a flush the deadline stopped (its emails cut to the
      // shards left) sends it again; the entry already made keeps its rows and sample.
      if (record.imports?.some((i) => i.id === effect.ref) === true) {
        return { ...record, nextImportRef: Math.max(record.nextImportRef ?? 1, -effect.ref + 1) }
      }
      return {
        ...record,
        nextImportRef: Math.max(record.nextImportRef ?? 1, -effect.ref + 1),
        imports: [...without(record.imports, effect.ref), { id: effect.ref, sentAt: effect.at, rows: effect.emails.length, sample: sampleOf(effect.emails) }]
      }
    case "ImportStarted": {
      const sent = effect.ref === undefined ? undefined : record.imports?.find((i) => i.id === effect.ref)
      const sentAt = effect.at ?? sent?.sentAt
      const rows = Math.ceil(effect.emails.length / Math.max(1, effect.batchIds.length))
      const started = sentAt === undefined ? [] : effect.batchIds.map((id): ImportInFlight => ({ id, sentAt, rows }))
      const kept = effect.ref === undefined ? record.imports ?? [] : without(record.imports, effect.ref)
      return {
        ...record,
        pendingImports: [...record.pendingImports, ...effect.batchIds.filter((id) => !record.pendingImports.includes(id))],
        imports: [...kept.filter((i) => !effect.batchIds.includes(i.id as never)), ...started]
      }
    }
    case "ImportStaged": {
      // Idempotent: a part already counted (a journal applied again) changes nothing.
      // A part of a file already sent (its reference taken and no longer staged) changes nothing either.
      if (record.staged?.ref !== effect.ref && (record.nextImportRef ?? 1) > -effect.ref) return record
      return { ...record, staged: withPart(record.staged, effect), nextImportRef: Math.max(record.nextImportRef ?? 1, -effect.ref + 1) }
    }
    case "StagedSending": {
      const staged = record.staged
      if (staged === undefined || staged.ref !== effect.ref) return record
      const { staged: _s, ...rest } = record
      return {
        ...rest,
        imports: [...without(record.imports, effect.ref), { id: effect.ref, sentAt: effect.at, rows: staged.rows, sample: staged.sample }],
        stagedLeft: [...(record.stagedLeft ?? []).filter((l) => l.ref !== effect.ref), { ref: effect.ref, parts: staged.parts }]
      }
    }
    case "StagedPartsDeleted": {
      const left = (record.stagedLeft ?? []).filter((l) => l.ref !== effect.ref)
      const { stagedLeft: _l, ...rest } = record
      return left.length === 0 ? rest : { ...rest, stagedLeft: left }
    }
    case "StagedStarted": {
      const entry = record.imports?.find((i) => i.id === effect.ref)
      if (entry === undefined) return record
      return {
        ...record,
        pendingImports: [...record.pendingImports.filter((id) => id !== effect.batchId), effect.batchId],
        imports: (record.imports ?? []).map((i) => (i.id === effect.ref ? { id: i.id, sentAt: i.sentAt, rows: i.rows, batchId: effect.batchId } : i))
      }
    }
    case "ImportNotSent":
      return { ...record, imports: without(record.imports, effect.ref) }
    case "ImportChecked":
      return { ...record, imports: (record.imports ?? []).map((i) => (i.id === effect.ref ? { ...i, checkedAt: effect.at } : i)) }
    case "ImportEnded":
      return {
        ...record,
        pendingImports: record.pendingImports.filter((id) => id !== effect.batchId),
        imports: without(effect.ref === undefined ? record.imports : without(record.imports, effect.ref), effect.batchId),
        ...(effect.failed.length === 0 ? {} : { importRowsFailed: (record.importRowsFailed ?? 0) + effect.failed.length })
      }
  }
}
