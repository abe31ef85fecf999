// Removing and renaming audiences, repairing drift made by hand in Marketo, and the dry run of the next plan.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { dryRun, getAudience, listAudiences, removeAudience, setDisplayName } from "../../../core/5-tick/AudienceStatus.js"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { MarketoApi } from "../../../core/ports/MarketoApi.js"
import { reconcileAudience } from "../../../core/5-tick/Reconcile.js"
import type { Email } from "../../../core/1-events/Email.js"
import type { ListId } from "../../../core/1-events/Ids.js"
import { event, harness, settings } from "./TickHarness.js"

describe("Sync: removal, renaming, drift repair, dry runs", () => {
  it.effect("removing an audience keeps its list, or empties it, as asked; renaming keeps the list", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send([
        event("keepme", "u1", ["a@example.com"], true),
        event("emptyme", "u1", ["a@example.com"], true),
        event("emptyme", "u2", ["b@example.com"], true),
        event("renamed", "u1", ["a@example.com"], true)
      ])
      yield* h.untilQuiet
      const renamedId = Option.getOrThrow(yield* h.provide(getAudience("renamed" as AudienceKey))).listId
      yield* h.provide(setDisplayName("renamed" as AudienceKey, "Renamed audience"))
      yield* h.send([event("renamed", "u2", ["b@example.com"], true)])
      expect(yield* h.provide(removeAudience("keepme" as AudienceKey, "keep"))).toBe(true)
      expect(yield* h.provide(removeAudience("emptyme" as AudienceKey, "empty"))).toBe(true)
      expect(yield* h.provide(removeAudience("nobody" as AudienceKey, "keep"))).toBe(false)
      yield* h.untilQuiet
      expect(yield* h.control.members("keepme")).toEqual(["a@example.com"])
      expect(yield* h.control.members("emptyme")).toEqual([])
      expect((yield* h.provide(listAudiences)).map((a) => a.key)).toEqual(["renamed"])
      // The renamed audience keeps its list (same id, same name in Marketo) and keeps syncing it.
      const renamed = Option.getOrThrow(yield* h.provide(getAudience("renamed" as AudienceKey)))
      expect(renamed).toMatchObject({ listId: renamedId, listName: "Renamed audience", synced: 2 })
      expect(yield* h.control.members("renamed")).toEqual(["a@example.com", "b@example.com"])
    }))

  it.effect("repairs drift: members added or removed by hand in Marketo are put right", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send([event("vip", "u1", ["a@example.com"], true), event("vip", "u2", ["b@example.com"], true)])
      yield* h.untilQuiet
      const listId = Option.getOrThrow(yield* h.provide(getAudience("vip" as AudienceKey))).listId as ListId
      // A person removes b and adds x by hand.
      yield* h.provide(Effect.gen(function*() {
        const api = yield* MarketoApi
        const [b] = yield* api.lookupLeads(["b@example.com" as Email])
        yield* api.removeFromList(listId, b!.leadIds)
        const [x] = yield* api.upsertLeads(["x@example.com" as Email])
        if (x?.status !== "skipped") yield* api.addToList(listId, [x!.leadId])
      }))
      expect(yield* h.control.members("vip")).toEqual(["a@example.com", "x@example.com"])
      const report = Option.getOrThrow(yield* h.provide(reconcileAudience("vip" as AudienceKey)))
      expect(report).toMatchObject({ membersRead: 2, calls: 1, missing: 1, unexpected: 1, strays: 0 })
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toEqual(["a@example.com", "b@example.com"])
    }))

  it.effect("shows the next plan as a dry run with its cost", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send(Array.from({ length: 10 }, (_, i) => event("vip", `u${i}`, [`u${i}@example.com`], true)))
      yield* h.tick({ ...settings, deadline: 0 })
      const plan = Option.getOrThrow(yield* h.provide(dryRun("vip" as AudienceKey, settings)))
      expect(plan.plan.steps.map((s) => s._tag)).toEqual(["EnsureFolder", "EnsureList", "UpsertLeads", "AddToList"])
      expect(plan.calls).toBe(4)
      expect(plan.minDurationSeconds).toBe(0)
      expect((yield* h.control.state).calls).toBe(0)
    }))
})
