// The sync lease (core/ports/SyncLease.ts) on Deno KV: the lease is one record per Marketo
// instance, [...prefix, "lease"] = { holder, expiresAt }; acquire, renew and release are
// read-modify-writes of it under the port's rules (acquireStep, renewStep, releaseStep), each
// committed only if the record did not change since its read, so two processes racing for a free
// lease cannot both be granted it.
import { Effect, Layer } from "effect"
import {
  acquireStep,
  type LeaseState,
  LeaseStoreFailure,
  makeSyncLease,
  releaseStep,
  renewStep,
  SyncLease,
  type SyncLeaseService
} from "../../core/ports/SyncLease.js"
import { DenoKv, type DenoKvService } from "./DenoKv.js"
import { type KvFailure, update } from "./KvAtomic.js"

export const make = ({ kv, prefix }: DenoKvService): SyncLeaseService => {
  const key: Deno.KvKey = [...prefix, "lease"]
  const storeFailure = (e: KvFailure) => new LeaseStoreFailure({ operation: e.operation, message: e.message })
  return makeSyncLease({
    acquire: (holder, ttlMillis) =>
      update<LeaseState, ReturnType<typeof acquireStep>["answer"]>(kv, key, "acquireLease", (lease, now) => {
        const { next, answer } = acquireStep(lease, holder, ttlMillis, now)
        return { answer, next: next ?? undefined }
      }).pipe(Effect.mapError(storeFailure)),
    renew: (holder, ttlMillis) =>
      update<LeaseState, ReturnType<typeof renewStep>["answer"]>(kv, key, "renewLease", (lease, now) => {
        const { next, answer } = renewStep(lease, holder, ttlMillis, now)
        return { answer, next: next ?? undefined }
      }).pipe(Effect.mapError(storeFailure)),
    release: (holder) =>
      update<LeaseState, boolean>(kv, key, "releaseLease", (lease, now) => {
        const freed = releaseStep(lease, holder, now)
        return { answer: freed, next: freed ? null : undefined }
      }).pipe(Effect.mapError(storeFailure))
  })
}

export const layer: Layer.Layer<SyncLease, never, DenoKv> = Layer.effect(SyncLease, Effect.map(DenoKv, make))
