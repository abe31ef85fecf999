// The sync lease: one writer per Marketo instance at a time. The lease expires by itself, so a
// tick that crashed does not block the next ones for longer than its time to live.
import { Data, Effect } from "effect"
import type { LeaseAnswer, MarketoInstanceStub } from "./MarketoInstanceApi.js"
import { rpcCall, type RpcFailure } from "./RpcCall.js"

/** Another tick holds the lease. */
export class LeaseHeld extends Data.TaggedError("LeaseHeld")<{
  readonly holder: string
  readonly expiresAt: number
}> {}

export type LeaseObject = Pick<MarketoInstanceStub, "acquireLease" | "renewLease" | "releaseLease">

export interface SyncLeaseService {
  readonly acquire: (holder: string, ttlMillis: number) => Effect.Effect<LeaseAnswer, RpcFailure>
  readonly renew: (holder: string, ttlMillis: number) => Effect.Effect<LeaseAnswer, RpcFailure>
  readonly release: (holder: string) => Effect.Effect<boolean, RpcFailure>
  /** Run `self` holding the lease; fails with LeaseHeld when another holder has it. */
  readonly withLease: <A, E, R>(
    holder: string,
    ttlMillis: number,
    self: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | LeaseHeld | RpcFailure, R>
}

export const make = (instance: LeaseObject): SyncLeaseService => {
  const acquire = (holder: string, ttlMillis: number) => rpcCall("acquireLease", () => instance.acquireLease(holder, ttlMillis))
  const renew = (holder: string, ttlMillis: number) => rpcCall("renewLease", () => instance.renewLease(holder, ttlMillis))
  const release = (holder: string) => rpcCall("releaseLease", () => instance.releaseLease(holder))
  return {
    acquire,
    renew,
    release,
    withLease: (holder, ttlMillis, self) =>
      Effect.acquireUseRelease(
        Effect.flatMap(acquire(holder, ttlMillis), (answer) =>
          answer.granted ? Effect.void : Effect.fail(new LeaseHeld({ holder: answer.holder, expiresAt: answer.expiresAt }))),
        () => self,
        // If the release fails the lease simply expires.
        () => Effect.ignore(release(holder))
      )
  }
}
