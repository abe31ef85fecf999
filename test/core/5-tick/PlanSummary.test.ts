// The status page's plan summary is kept while what it was computed from is unchanged: a second
// load reads no shard, and a change to the audience (a fold, a stopped tick's journal) makes it
// computed again, equal to a fresh dry run.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { dryRun } from "../../../core/5-tick/AudienceStatus.js"
import { planSummary, summarizeSteps } from "../../../core/5-tick/PlanSummary.js"
import { event, harness, settings } from "./TickHarness.js"

const vip = "vip" as AudienceKey

describe("PlanSummary", () => {
  it.effect("is served from what was kept until the audience changes, and always says what a dry run says", () =>
    Effect.gen(function*() {
      const reads: Array<string> = []
      const h = yield* harness(undefined, (s) => ({
        ...s,
        getMany: (keys) => Effect.zipRight(Effect.sync(() => reads.push(...keys.filter((k) => k.includes("/shard/")))), s.getMany(keys))
      }))
      const fresh = Effect.map(h.provide(dryRun(vip, settings)), Option.map((p) => ({ calls: p.calls, minDurationSeconds: p.minDurationSeconds, steps: summarizeSteps(p.plan.steps) })))
      yield* h.send(Array.from({ length: 50 }, (_, i) => event("vip", `u${i}`, [`u${i}@example.com`], true)))
      yield* h.tick({ ...settings, deadline: 0 }) // fold only
      reads.length = 0
      const first = yield* h.provide(planSummary(vip, settings))
      expect(reads.length).toBeGreaterThan(0)
      expect(first).toEqual(yield* fresh)
      reads.length = 0
      expect(yield* h.provide(planSummary(vip, settings))).toEqual(first)
      expect(reads).toEqual([])
      // More members folded: computed again.
      yield* h.send(Array.from({ length: 400 }, (_, i) => event("vip", `v${i}`, [`v${i}@example.com`], true)))
      yield* h.tick({ ...settings, deadline: 0 })
      const second = yield* h.provide(planSummary(vip, settings))
      expect(second).toEqual(yield* fresh)
      expect(second).not.toEqual(first)
      // A tick killed after some steps leaves a journal: the summary shows only what is left.
      yield* h.control.crashAtCall(3)
      expect(Exit.isInterrupted(yield* Effect.exit(h.tick()))).toBe(true)
      expect(yield* h.provide(planSummary(vip, settings))).toEqual(yield* fresh)
      // Another budget is another summary.
      const slower = { ...settings, budget: { callsPerWindow: 1, windowMillis: 20_000 } }
      expect(Option.getOrThrow(yield* h.provide(planSummary(vip, slower))).minDurationSeconds)
        .toBe(Option.getOrThrow(yield* h.provide(dryRun(vip, slower))).minDurationSeconds)
    }))
})
