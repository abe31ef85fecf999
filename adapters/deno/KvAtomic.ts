// Read-modify-write of one Deno KV record: read it with its versionstamp, compute the next value,
// and commit only if nothing wrote the record in between (an atomic check of the versionstamp).
// A conflict means another writer won: read again and decide again, on the fresh value and time.
// This is what the Durable Object's single-threaded methods give on Cloudflare.
import { Clock, Data, Effect, Schedule } from "effect"

/** Deno KV refused or failed an operation, or conflicts outlasted the retries. */
export class KvFailure extends Data.TaggedError("KvFailure")<{
  readonly operation: string
  readonly message: string
}> {}

/** Another writer changed a record between this one's read and commit: read again. */
export class KvConflict extends Data.TaggedError("KvConflict")<{}> {}

/**
 * Conflicts are brief (another writer's commit): retry soon, with jitter so that writers that
 * collided do not collide again, never more than 100 ms apart, for a few seconds at most.
 */
export const conflictSchedule = Schedule.exponential("2 millis").pipe(
  Schedule.union(Schedule.spaced("100 millis")),
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(60))
)

// Two connections to one local database (two processes, or two handles in one) take SQLite's
// write lock in turn; the one that finds it taken is told "database is locked" at once. Like a
// conflict, it passes: try again.
const busy = (cause: unknown) => cause instanceof Error && cause.message.includes("database is locked")

/**
 * A Deno KV call as an Effect; what it throws (limits, a closed database) becomes KvFailure.
 * `call` may run again (a locked database): it builds its atomic operation afresh each time.
 */
export const kvTry = <A>(operation: string, call: () => Promise<A>): Effect.Effect<A, KvFailure> =>
  Effect.tryPromise({ try: call, catch: (cause) => cause }).pipe(
    Effect.retry({ schedule: conflictSchedule, while: busy }),
    Effect.mapError((cause) => new KvFailure({ operation, message: cause instanceof Error ? cause.message : String(cause) }))
  )

/** Run `attempt` again while it fails with a conflict; when the retries are spent, KvFailure. */
export const retryConflicts = <A, E>(
  operation: string,
  attempt: Effect.Effect<A, E | KvConflict>
): Effect.Effect<A, Exclude<E, KvConflict> | KvFailure> =>
  attempt.pipe(
    Effect.retry({ schedule: conflictSchedule, while: (e) => e instanceof KvConflict }),
    Effect.catchIf(
      (e): e is KvConflict => e instanceof KvConflict,
      () => Effect.fail(new KvFailure({ operation, message: "the records kept changing: conflict retries spent" }))
    )
  ) as Effect.Effect<A, Exclude<E, KvConflict> | KvFailure>

/** What a step decides: the answer, and the record's next value (undefined: leave it, null: delete it). */
export interface Step<T, A> {
  readonly answer: A
  readonly next: T | null | undefined
}

/**
 * Update the record at `key` with `step` (given the current value or null, and the time), retrying
 * on conflicts. A step that changes nothing commits nothing. `lock` queues this process's own
 * updates of the record, so they do not spin on conflicts with each other; other processes are
 * kept out by the versionstamp check alone.
 */
export const update = <T, A>(
  kv: Deno.Kv,
  key: Deno.KvKey,
  operation: string,
  step: (current: T | null, now: number) => Step<T, A>,
  lock?: Effect.Semaphore
): Effect.Effect<A, KvFailure> => {
  const attempt = Effect.gen(function*() {
    const entry = yield* kvTry(operation, () => kv.get<T>(key))
    const { answer, next } = step(entry.value, yield* Clock.currentTimeMillis)
    if (next === undefined) return answer
    const result = yield* kvTry(operation, () => {
      const op = kv.atomic().check(entry)
      return (next === null ? op.delete(key) : op.set(key, next)).commit()
    })
    if (!result.ok) return yield* new KvConflict()
    return answer
  })
  const run = retryConflicts(operation, attempt)
  return lock === undefined ? run : lock.withPermits(1)(run)
}
