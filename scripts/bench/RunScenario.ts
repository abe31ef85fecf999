// Runs one scenario for one strategy on a fresh simulated instance: optional setup (synced, its
// calls not counted), then the scenario's events delivered at their times in 10-second slices, the
// strategy's work every minute, and the probe watching each change reach its list. Stops once every
// change shows and the lists are exact, and the strategy has had a few quiet minutes (an import's
// confirming poll is a call too), or at the time limit.
import { Effect, TestContext } from "effect"
import { advanceTo, type CallCounts, makeWorld, type World, type WorldOptions } from "./SimWorld.js"
import { LatencyProbe, listsExact, namedShare, type SimEvent, Truth } from "./SimEvents.js"
import type { Strategy } from "./Strategies.js"

export interface ScenarioResult {
  readonly calls: number
  /** From the first event to every list exact, simulated. */
  readonly sim_seconds: number
  readonly refused: number
  readonly exact: boolean
  readonly latency: ReturnType<LatencyProbe["summary"]>
  readonly callsPerHour: ReadonlyArray<number>
  /** Wall time the simulation took on this machine. */
  readonly wall_seconds: number
  /** A baseline's batches that failed and were sent again later (e.g. past the daily quota). */
  readonly failed_batches: number
  /** The share of the listed emails whose lead carries the member's first and last name. */
  readonly named: number
}

export interface ScenarioSpec {
  /** Printed with the progress lines (one per simulated hour) on stderr. */
  readonly label?: string
  readonly world: WorldOptions
  readonly strategy: (world: World) => Strategy
  /** Synced before the scenario (e.g. the members already on the list); its calls are not counted. */
  readonly setup?: ReadonlyArray<SimEvent>
  /** Runs after the setup is synced (e.g. to seed a cache). */
  readonly afterSetup?: (world: World, strategy: Strategy) => Effect.Effect<void>
  /** The scenario's events, with times relative to its start. */
  readonly events: ReadonlyArray<SimEvent>
  /** The scenario starts at the first whole minute after this (absolute), plus `offsetMillis`. */
  readonly notBefore?: number
  readonly offsetMillis?: number
  readonly limitMillis: number
  /** Quiet minutes after the lists are exact before counting stops. */
  readonly quietMinutes?: number
}

const minute = 60_000
const deliveredAt = (e: SimEvent) => e.deliverAt ?? e.at
const slice = 10_000

const resetCounts = (counts: CallCounts, origin: number) => {
  counts.origin = origin
  counts.counted = 0
  counts.refused = 0
  counts.perHour.length = 0
}

/** Deliver `events` (sorted by time) slice by slice from `from` to `to`, with the strategy's minutes. */
const play = (
  world: World,
  strategy: Strategy,
  events: ReadonlyArray<SimEvent>,
  probe: LatencyProbe,
  from: number,
  done: (now: number) => boolean,
  limit: number,
  label?: string,
  /** Run after each of the strategy's minutes (e.g. to see whether it has settled). */
  afterMinute?: Effect.Effect<void>
) =>
  Effect.gen(function*() {
    let next = 0
    let now = from
    let wall = performance.now()
    for (; now < limit; now += slice) {
      if (label !== undefined && (now - world.start) % 3_600_000 === 0) {
        process.stderr.write(`  ${label} ${new Date(now).toISOString().slice(0, 16)}: ${next}/${events.length} events, ${world.counts.counted} calls, ${probe.pending} changes waiting, ${((performance.now() - wall) / 1000).toFixed(1)} s\n`)
        wall = performance.now()
      }
      yield* advanceTo(now)
      const batch: Array<SimEvent> = []
      while (next < events.length && deliveredAt(events[next]!) < now) batch.push(events[next++]!)
      if (batch.length > 0) {
        yield* strategy.deliver(batch)
        for (const e of batch) probe.note(e)
      }
      if ((now - world.start) % minute === 0) {
        yield* strategy.everyMinute(now)
        if (afterMinute !== undefined) yield* afterMinute
        // A long run of work moves the clock past later minutes: the next one starts after it.
        const after = yield* Effect.clockWith((c) => c.currentTimeMillis)
        if (after > now) now = Math.ceil(after / slice) * slice - slice
      }
      const at = yield* Effect.clockWith((c) => c.currentTimeMillis)
      probe.check(world.sandbox, at)
      if (next >= events.length && done(at)) return at
    }
    return now
  })

const shift = (e: SimEvent, by: number): SimEvent => ({ ...e, at: e.at + by, ...(e.deliverAt === undefined ? {} : { deliverAt: e.deliverAt + by }) })

export const runScenario = (spec: ScenarioSpec): Effect.Effect<ScenarioResult, unknown> =>
  Effect.gen(function*() {
    const wallStart = performance.now()
    const world = yield* makeWorld(spec.world)
    const strategy = spec.strategy(world)
    let t = world.start
    if (spec.setup !== undefined && spec.setup.length > 0) {
      const setupTruth = new Truth()
      const setupProbe = new LatencyProbe(setupTruth)
      const setupEvents = spec.setup.map((e) => shift(e, world.start))
      t = yield* play(world, strategy, setupEvents, setupProbe, world.start, () => setupProbe.pending === 0 && listsExact(setupTruth, world.sandbox), world.start + spec.limitMillis, spec.label === undefined ? undefined : `${spec.label} setup`)
      if (spec.afterSetup !== undefined) yield* spec.afterSetup(world, strategy)
    }
    // Let the strategy's own settling after setup (its imports confirmed by their polls, a quiet
    // tick) finish before counting.
    if (strategy.idle !== undefined && spec.setup !== undefined && spec.setup.length > 0) {
      let settled = false
      t = yield* play(world, strategy, [], new LatencyProbe(new Truth()), Math.ceil(t / minute) * minute, () => settled, t + spec.limitMillis, undefined, strategy.idle.pipe(Effect.map((idle) => {
        settled = idle
      }), Effect.orDie))
    }
    const begin = Math.ceil(Math.max(t + 1, spec.notBefore ?? 0) / minute) * minute + (spec.offsetMillis ?? 0)
    yield* play(world, strategy, [], new LatencyProbe(new Truth()), Math.ceil(t / minute) * minute, (now) => now >= begin - minute, begin)
    resetCounts(world.counts, begin)
    const truth = new Truth()
    for (const e of spec.setup ?? []) truth.apply(shift(e, world.start))
    const probe = new LatencyProbe(truth)
    const events = spec.events.map((e) => shift(e, begin)).sort((a, b) => deliveredAt(a) - deliveredAt(b))
    let exactAt: number | undefined
    let quietSince: number | undefined
    let lastCalls = -1
    const quiet = (spec.quietMinutes ?? 3) * minute
    // Counting goes on until the strategy has nothing in flight either (an import's confirming poll
    // is a call, even when it comes after the list is exact).
    let idle = strategy.idle === undefined
    const end = yield* play(world, strategy, events, probe, Math.floor(begin / slice) * slice, (now) => {
      if (exactAt === undefined && probe.pending === 0 && listsExact(truth, world.sandbox)) exactAt = now
      if (exactAt === undefined) return false
      if (world.counts.counted !== lastCalls) {
        lastCalls = world.counts.counted
        quietSince = now
      }
      return idle && now - (quietSince ?? now) >= quiet
    }, begin + spec.limitMillis, spec.label, strategy.idle === undefined ? undefined : strategy.idle.pipe(Effect.map((i) => {
      idle = i
    }), Effect.orDie))
    const exact = probe.pending === 0 && listsExact(truth, world.sandbox)
    return {
      calls: world.counts.counted,
      sim_seconds: Math.round(((exactAt ?? end) - (events[0] === undefined ? begin : deliveredAt(events[0]))) / 1000),
      refused: world.counts.refused,
      exact,
      latency: probe.summary(),
      callsPerHour: [...world.counts.perHour].map((n) => n ?? 0),
      wall_seconds: Math.round((performance.now() - wallStart) / 100) / 10,
      failed_batches: strategy.failures?.count ?? 0,
      named: namedShare(truth, world.sandbox)
    } satisfies ScenarioResult
  }).pipe(Effect.scoped, Effect.provide(TestContext.TestContext)) as Effect.Effect<ScenarioResult, unknown, never>

