// The SyncLease contract (core/ports/SyncLease.ts): one holder at a time, a lease that expires
// unless renewed, renewal only by a holder that still has it, release by the holder only, one
// winner among holders racing for a free lease; and `withLease` holding it while work runs,
// stopping work whose lease was taken. Every case opens a fresh lease; `second` is another handle
// on the same lease (another process or invocation). Times to live are a few hundred milliseconds.
import { Clock, Effect, Fiber, type Scope } from "effect"
import { LeaseHeld, LeaseLost, type SyncLeaseService } from "../../core/ports/SyncLease.js"
import { check, type ContractCase, equal, failureOf } from "./Contract.js"

type Lease = SyncLeaseService<unknown>

export interface SyncLeaseHarness {
  readonly open: Effect.Effect<{ readonly lease: Lease; readonly second: Lease }, unknown, Scope.Scope>
  /**
   * Moves the lease's time `ms` forward (SkewClock.ts): where the lease reads the Effect clock the
   * cases skip time rather than sleep, so no verdict depends on how late a timer fires. Without
   * it they sleep.
   */
  readonly skip?: (ms: number) => Effect.Effect<void>
}

const pass = (h: SyncLeaseHarness, ms: number) => h.skip?.(ms) ?? Effect.sleep(ms)

type Case = ContractCase<SyncLeaseHarness>

const oneHolder: Case = {
  name: "one holder at a time: another is refused with the holder and its expiry; the holder asking again extends it",
  run: (h) =>
    Effect.gen(function*() {
      const { lease, second } = yield* h.open
      const before = yield* Clock.currentTimeMillis
      const first = yield* lease.acquire("tick-1", 60_000)
      check(first.granted && first.holder === "tick-1" && first.expiresAt >= before + 60_000 - 50, "the first acquire", first)
      const refused = yield* second.acquire("tick-2", 60_000)
      equal(refused, { granted: false, holder: "tick-1", expiresAt: first.expiresAt }, "a second holder's acquire")
      yield* pass(h, 20)
      const again = yield* second.acquire("tick-1", 60_000)
      check(again.granted && again.expiresAt > first.expiresAt, "the holder's second acquire extends it", again)
    })
}

const expiry: Case = {
  name: "a lease not renewed expires: another holder then gets it, and the first can no longer renew it",
  run: (h) =>
    Effect.gen(function*() {
      const { lease, second } = yield* h.open
      check((yield* lease.acquire("tick-1", 300)).granted, "the first acquire")
      check(!(yield* second.acquire("tick-2", 300)).granted, "acquire before the expiry")
      yield* pass(h, 360)
      check((yield* second.acquire("tick-2", 60_000)).granted, "acquire after the expiry")
      const renewed = yield* lease.renew("tick-1", 60_000)
      check(!renewed.granted && renewed.holder === "tick-2", "the expired holder's renewal", renewed)
      // A lease that expired with nobody taking it cannot be renewed either.
      check((yield* second.release("tick-2")), "release")
      check((yield* lease.acquire("tick-3", 100)).granted, "acquire")
      yield* pass(h, 150)
      const late = yield* lease.renew("tick-3", 60_000)
      check(!late.granted, "renewal of an expired lease nobody took", late)
    })
}

const renewal: Case = {
  name: "renewal keeps the lease past its first expiry",
  run: (h) =>
    Effect.gen(function*() {
      const { lease, second } = yield* h.open
      const first = yield* lease.acquire("tick-1", 600)
      yield* pass(h, 300)
      const renewed = yield* second.renew("tick-1", 600)
      check(renewed.granted && renewed.expiresAt > first.expiresAt, "the renewal", renewed)
      // Past the first expiry, before the renewed one (with room for a late timer either side).
      yield* pass(h, 450)
      const refused = yield* second.acquire("tick-2", 600)
      check(!refused.granted && refused.holder === "tick-1", "acquire after the first expiry but before the renewed one", refused)
    })
}

const release: Case = {
  name: "only the holder's release frees the lease",
  run: (h) =>
    Effect.gen(function*() {
      const { lease, second } = yield* h.open
      check((yield* lease.acquire("tick-1", 60_000)).granted, "acquire")
      equal(yield* second.release("tick-2"), false, "release by another holder")
      check(!(yield* second.acquire("tick-2", 60_000)).granted, "acquire after another's release")
      equal(yield* second.release("tick-1"), true, "release by the holder")
      equal(yield* lease.release("tick-1"), false, "a second release")
      check((yield* second.acquire("tick-2", 60_000)).granted, "acquire after the holder's release")
    })
}

const race: Case = {
  name: "of 16 holders racing for a free lease on both handles, exactly one is granted",
  run: (h) =>
    Effect.gen(function*() {
      const { lease, second } = yield* h.open
      for (let round = 0; round < 3; round++) {
        const answers = yield* Effect.forEach(
          Array.from({ length: 16 }, (_, i) => i),
          (i) => (i % 2 === 0 ? lease : second).acquire(`r${round}-${i}`, 60_000),
          { concurrency: "unbounded" }
        )
        const granted = answers.filter((a) => a.granted)
        equal(granted.length, 1, `holders granted in round ${round}`)
        check(answers.every((a) => a.holder === granted[0]!.holder), "every refusal names the winner", answers)
        check(yield* lease.release(granted[0]!.holder), "the winner's release")
      }
    })
}

const withLease: Case = {
  name: "withLease runs the work holding the lease, renewed past its time to live, and frees it after",
  run: (h) =>
    Effect.gen(function*() {
      const { lease, second } = yield* h.open
      // Renewed every 500 ms: a renewal may come a second late before the lease lapses, so a
      // loaded machine's late timers do not make it lapse (the renewal runs on real timers).
      const work = yield* Effect.fork(lease.withLease("tick-1", 1_500, Effect.as(Effect.sleep("2400 millis"), "done")))
      yield* Effect.sleep("1200 millis")
      const refused = yield* failureOf(second.withLease("tick-2", 1_500, Effect.succeed("ran")), "withLease while another works")
      check(refused instanceof LeaseHeld && refused.holder === "tick-1", "refused with LeaseHeld naming the holder", refused)
      equal(yield* Fiber.join(work), "done", "the work's result")
      equal(yield* second.withLease("tick-2", 300, Effect.succeed("ran")), "ran", "withLease after the work ended")
      const failed = yield* failureOf(second.withLease("tick-3", 60_000, Effect.fail("boom" as const)), "failing work")
      equal(failed, "boom", "the work's own error")
      check((yield* lease.acquire("tick-4", 60_000)).granted, "the lease is free after failing work")
    })
}

const lost: Case = {
  name: "withLease stops work whose lease was taken, with LeaseLost",
  run: (h) =>
    Effect.gen(function*() {
      const { lease, second } = yield* h.open
      let finished = false
      const work = yield* Effect.fork(lease.withLease("tick-1", 300, Effect.sleep("2 seconds").pipe(Effect.tap(() => (finished = true)))))
      yield* Effect.sleep("30 millis")
      // As after a pause of the holder longer than its lease: another takes it.
      check(yield* second.release("tick-1"), "release on the holder's behalf")
      check((yield* second.acquire("tick-2", 60_000)).granted, "another holder's acquire")
      const error = yield* failureOf(Fiber.join(work), "the work whose lease was taken")
      check(error instanceof LeaseLost && error.holder === "tick-1", "stopped with LeaseLost", error)
      check(!finished, "the work ran to its end")
      const held = yield* lease.acquire("tick-5", 60_000)
      check(!held.granted && held.holder === "tick-2", "the new holder keeps the lease", held)
    })
}

export const syncLeaseContract: ReadonlyArray<Case> = [oneHolder, expiry, renewal, release, race, withLease, lost]
