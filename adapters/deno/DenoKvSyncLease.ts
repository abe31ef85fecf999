// The sync lease (core/ports/SyncLease.ts) on Deno KV: the lease is one record per Marketo
// instance, [...prefix, "lease"] = { holder, expiresAt }; acquire, renew and release are
// read-modify-writes of it under the port's rules (acquireStep, renewStep, releaseStep), each
// committed only if the record did not change since its read, so two processes racing for a free
// lease cannot both be granted it.
import { Effect, Layer } from "effect"
import {
  acquireStep,
  type LeaseAnswer,
  type LeaseState,
  type LeaseStep,
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
  // A step that changes nothing (null) commits nothing.
  const stepped = (operation: string, step: (lease: LeaseState | null, now: number) => LeaseStep) =>
    update<LeaseState, LeaseAnswer>(kv, key, operation, (lease, now) => {
      const { next, answer } = step(lease, now)
      return { answer, next: next ?? undefined }
    }).pipe(Effect.mapError(storeFailure))
  return makeSyncLease({
    acquire: (holder, ttlMillis) => stepped("acquireLease", (lease, now) => acquireStep(lease, holder, ttlMillis, now)),
    renew: (holder, ttlMillis) => stepped("renewLease", (lease, now) => renewStep(lease, holder, ttlMillis, now)),
    release: (holder) =>
      update<LeaseState, boolean>(kv, key, "releaseLease", (lease, now) => {
        const freed = releaseStep(lease, holder, now)
        return { answer: freed, next: freed ? null : undefined }
      }).pipe(Effect.mapError(storeFailure))
  })
}

export const layer: Layer.Layer<SyncLease, never, DenoKv> = Layer.effect(SyncLease, Effect.map(DenoKv, make))
