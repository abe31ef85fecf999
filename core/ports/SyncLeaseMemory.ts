// The SyncLease port in one process: the lease record in a Ref, time from the Effect Clock (so
// TestClock drives expiry in tests). For tests and Node runs, where one process is the only writer.
import { Clock, Effect, Layer, Ref } from "effect"
import { acquireStep, type LeaseState, makeSyncLease, releaseStep, renewStep, SyncLease, type SyncLeaseService } from "./SyncLease.js"

export const makeSyncLeaseMemory: Effect.Effect<SyncLeaseService> = Effect.map(Ref.make<LeaseState | null>(null), (ref) => {
  // Each operation reads the clock, then changes the Ref in one atomic step.
  const step = <A>(f: (lease: LeaseState | null, now: number) => readonly [A, LeaseState | null]) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.modify(ref, (lease) => f(lease, now)))
  return makeSyncLease({
    acquire: (holder, ttlMillis) =>
      step((lease, now) => {
        const { next, answer } = acquireStep(lease, holder, ttlMillis, now)
        return [answer, next ?? lease] as const
      }),
    renew: (holder, ttlMillis) =>
      step((lease, now) => {
        const { next, answer } = renewStep(lease, holder, ttlMillis, now)
        return [answer, next ?? lease] as const
      }),
    release: (holder) =>
      step((lease, now) => {
        const freed = releaseStep(lease, holder, now)
        return [freed, freed ? null : lease]
      })
  })
})

export const layerSyncLeaseMemory: Layer.Layer<SyncLease> = Layer.effect(SyncLease, makeSyncLeaseMemory)
