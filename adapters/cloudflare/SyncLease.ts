// The sync lease (core/ports/SyncLease.ts) over the instance's Durable Object: its acquireLease,
// renewLease and releaseLease methods are the lease record, each one RPC that runs start to
// finish inside the object; holding, renewing and losing the lease are the port's `makeSyncLease`.
import { Effect, Layer } from "effect"
import {
  LeaseHeld,
  LeaseLost,
  LeaseStoreFailure,
  makeSyncLease,
  SyncLease,
  type SyncLeaseService
} from "../../core/ports/SyncLease.js"
import type { MarketoInstanceStub } from "./MarketoInstanceApi.js"
import { rpcCall } from "./RpcCall.js"

export { LeaseHeld, LeaseLost, type SyncLeaseService }

export type LeaseObject = Pick<MarketoInstanceStub, "acquireLease" | "renewLease" | "releaseLease">

export const make = (instance: LeaseObject): SyncLeaseService => {
  // The object cannot be reached even after rpcCall's retries.
  const call = <A>(method: string, f: () => Promise<A>) =>
    rpcCall(method, f).pipe(
      Effect.mapError((e) => new LeaseStoreFailure({ operation: method, message: e.cause instanceof Error ? e.cause.message : String(e.cause) }))
    )
  return makeSyncLease({
    acquire: (holder, ttlMillis) => call("acquireLease", () => instance.acquireLease(holder, ttlMillis)),
    renew: (holder, ttlMillis) => call("renewLease", () => instance.renewLease(holder, ttlMillis)),
    release: (holder) => call("releaseLease", () => instance.releaseLease(holder))
  })
}

export const layer = (instance: LeaseObject): Layer.Layer<SyncLease> => Layer.succeed(SyncLease, make(instance))
