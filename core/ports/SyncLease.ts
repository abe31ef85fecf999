// The sync lease: one writer per Marketo instance at a time. The tick (FoldInbox, the journal,
// the flush) assumes no other tick writes the same audience meanwhile; the lease is how a runtime
// guarantees it. A runtime provides three atomic operations on one record (LeaseRecord); holding
// the lease while work runs, renewing it, and stopping when it is lost are the same everywhere
// (`makeSyncLease`). Implementations: SyncLeaseMemory.ts beside this file (tests, Node),
// adapters/cloudflare/SyncLease.ts (the instance's Durable Object), adapters/deno (Deno KV).
//
// The rules every record follows:
// - acquire: granted when the lease is free, expired, or already held by the same holder (then it
//   is extended); otherwise refused with the current holder and its expiry;
// - renew: granted only to the current holder of a lease that has not expired;
// - release: only the current holder's release frees it (answers whether it did).
// The lease expires by itself, so a holder that crashed blocks the next ones for its time to live.
import { Context, Data, Duration, Effect } from "effect"

/** What acquire and renew answer: the lease as it stands after the request. */
export type LeaseAnswer =
  | { readonly granted: true; readonly holder: string; readonly expiresAt: number }
  | { readonly granted: false; readonly holder: string; readonly expiresAt: number }

/** Another holder has the lease. */
export class LeaseHeld extends Data.TaggedError("LeaseHeld")<{
  readonly holder: string
  readonly expiresAt: number
}> {}

/** The lease was taken by another holder while this one ran (its renewal was refused). */
export class LeaseLost extends Data.TaggedError("LeaseLost")<{
  readonly holder: string
}> {}

/** The record could not be read or written (storage unreachable, retries spent). */
export class LeaseStoreFailure extends Data.TaggedError("LeaseStoreFailure")<{
  readonly operation: string
  readonly message: string
}> {}

/** The three atomic operations a runtime provides on the lease record. */
export interface LeaseRecord<E = LeaseStoreFailure> {
  readonly acquire: (holder: string, ttlMillis: number) => Effect.Effect<LeaseAnswer, E>
  readonly renew: (holder: string, ttlMillis: number) => Effect.Effect<LeaseAnswer, E>
  readonly release: (holder: string) => Effect.Effect<boolean, E>
}

export interface SyncLeaseService<E = LeaseStoreFailure> extends LeaseRecord<E> {
  /**
   * Run `self` holding the lease, renewed every third of its time to live while it runs; fails
   * with LeaseHeld when another holder has it, and interrupts `self` with LeaseLost if a renewal
   * is refused. The lease is released when `self` ends, however it ends.
   */
  readonly withLease: <A, E2, R>(
    holder: string,
    ttlMillis: number,
    self: Effect.Effect<A, E2, R>
  ) => Effect.Effect<A, E2 | E | LeaseHeld | LeaseLost, R>
}

export class SyncLease extends Context.Tag("marketo-lists/SyncLease")<SyncLease, SyncLeaseService>() {}

export const makeSyncLease = <E>(record: LeaseRecord<E>): SyncLeaseService<E> => {
  // Renews until interrupted (when `self` ends); a refused renewal ends the race with LeaseLost.
  // A renewal that cannot reach the store is tried again at the next beat: the lease still has
  // two thirds of its time to live. A tick that waits out a long rate pause (606/615 back-offs
  // double up to 5 minutes) keeps the lease this way, and the next tick answers busy.
  const keepAlive = (holder: string, ttlMillis: number): Effect.Effect<never, LeaseLost> =>
    Effect.forever(
      Effect.sleep(Duration.millis(Math.max(1, Math.floor(ttlMillis / 3)))).pipe(
        Effect.zipRight(Effect.either(record.renew(holder, ttlMillis))),
        Effect.flatMap((answer) =>
          answer._tag === "Right" && !answer.right.granted ? Effect.fail(new LeaseLost({ holder })) : Effect.void)
      )
    )
  return {
    ...record,
    withLease: (holder, ttlMillis, self) =>
      Effect.acquireUseRelease(
        Effect.flatMap(record.acquire(holder, ttlMillis), (answer) =>
          answer.granted ? Effect.void : Effect.fail(new LeaseHeld({ holder: answer.holder, expiresAt: answer.expiresAt }))),
        () => Effect.raceFirst(self, keepAlive(holder, ttlMillis)),
        // If the release fails the lease simply expires.
        () => Effect.ignore(record.release(holder))
      )
  }
}

/** The lease's rules as a pure step, for records that hold `{ holder, expiresAt }` (or nothing). */
export interface LeaseState {
  readonly holder: string
  readonly expiresAt: number
}

/** A step's outcome: the record's next state (null: leave it as it is) and the answer. */
export interface LeaseStep {
  readonly next: LeaseState | null
  readonly answer: LeaseAnswer
}

const live = (lease: LeaseState | null, now: number) => (lease !== null && lease.expiresAt > now ? lease : null)

const refused = (lease: LeaseState): LeaseStep => ({ next: null, answer: { granted: false, holder: lease.holder, expiresAt: lease.expiresAt } })

const granted = (holder: string, ttlMillis: number, now: number): LeaseStep => {
  const next = { holder, expiresAt: now + ttlMillis }
  return { next, answer: { granted: true, ...next } }
}

/** acquire: granted when free, expired or already this holder's. */
export const acquireStep = (current: LeaseState | null, holder: string, ttlMillis: number, now: number): LeaseStep => {
  const lease = live(current, now)
  return lease !== null && lease.holder !== holder ? refused(lease) : granted(holder, ttlMillis, now)
}

/** renew: extended only for the holder of a lease that has not expired. */
export const renewStep = (current: LeaseState | null, holder: string, ttlMillis: number, now: number): LeaseStep => {
  const lease = live(current, now)
  if (lease === null) return refused({ holder: "", expiresAt: 0 })
  return lease.holder !== holder ? refused(lease) : granted(holder, ttlMillis, now)
}

/** release: frees the lease only for its current holder. */
export const releaseStep = (current: LeaseState | null, holder: string, now: number): boolean => {
  const lease = live(current, now)
  return lease !== null && lease.holder === holder
}
