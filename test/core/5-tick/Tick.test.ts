// The tick end to end over the in-memory Marketo: members on, members off, lists adopted or refused.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import { getAudience, listAudiences, setDisplayName } from "../../../core/5-tick/AudienceStatus.js"
import type { AudienceKey, FolderId } from "../../../core/1-events/Ids.js"
import { defaultFolder } from "../../../core/ports/MarketoApiMemory.js"
import { event, harness } from "./TickHarness.js"

describe("Sync", () => {
  it.effect("puts every member's emails on the list, one entry per email, and counts members without email", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send([
        event("vip", "u1", ["ada@example.com"], true),
        event("vip", "u2", ["grace@example.com", "grace@work.example.com"], true),
        event("vip", "u3", [], true),
        event("newsletter", "u1", ["ada@example.com"], true)
      ])
      const first = yield* h.tick()
      expect(first.inboxFolded).toBe(1)
      expect(first.changesFolded).toBe(4)
      expect(first.calls).toBe((yield* h.control.state).calls)
      expect(yield* h.control.members("vip")).toEqual(["ada@example.com", "grace@example.com", "grace@work.example.com"])
      expect(yield* h.control.members("newsletter")).toEqual(["ada@example.com"])
      const vip = Option.getOrThrow(yield* h.provide(getAudience("vip" as AudienceKey)))
      expect(vip).toMatchObject({ desired: 3, synced: 3, withoutEmail: 1, pending: { add: 0, remove: 0 }, listName: "vip" })
      expect(vip.lastSync?.outcome).toBe("ok")
      expect((yield* h.provide(listAudiences)).map((a) => a.key)).toEqual(["newsletter", "vip"])
    }))

  it.effect("removes members who exit, keeps an email another member still holds, follows email changes", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send([
        event("vip", "u1", ["shared@example.com", "ada@example.com"], true),
        event("vip", "u2", ["shared@example.com"], true),
        event("vip", "u3", ["old@example.com"], true)
      ])
      yield* h.untilQuiet
      yield* h.send([
        event("vip", "u1", ["shared@example.com", "ada@example.com"], false),
        event("vip", "u3", ["old@example.com"], false),
        event("vip", "u3", ["new@example.com"], true)
      ])
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toEqual(["new@example.com", "shared@example.com"])
      yield* h.send([event("vip", "u2", ["shared@example.com"], false)])
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toEqual(["new@example.com"])
    }))

  it.effect("converges the same whatever the order and however often events are delivered", () =>
    Effect.gen(function*() {
      const enter = event("vip", "u1", ["a@example.com"], true)
      const exit = event("vip", "u1", ["a@example.com"], false)
      const other = event("vip", "u2", ["b@example.com"], true)
      const h = yield* harness()
      yield* h.send([exit, other])
      yield* h.send([enter, enter, other])
      yield* h.untilQuiet
      yield* h.send([enter])
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toEqual(["b@example.com"])
    }))

  it.effect("never removes from a journey-step list", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send([event("step1", "u1", ["a@example.com"], true, { computation_class: "journey_step" })])
      yield* h.untilQuiet
      yield* h.send([event("step1", "u1", ["a@example.com"], false, { computation_class: "journey_step" })])
      yield* h.untilQuiet
      expect(yield* h.control.members("step1")).toEqual(["a@example.com"])
    }))

  it.effect("adopts a list of the same name already in the folder", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      const id = yield* h.control.addList("vip", defaultFolder.id)
      yield* h.send([event("vip", "u1", ["a@example.com"], true)])
      yield* h.untilQuiet
      expect(Option.getOrThrow(yield* h.provide(getAudience("vip" as AudienceKey))).listId).toBe(id)
      expect(yield* h.control.members("vip")).toEqual(["a@example.com"])
    }))

  it.effect("reports a same-named list outside the folder as a clear error, and syncs other audiences", () =>
    Effect.gen(function*() {
      const h = yield* harness({ folders: [defaultFolder, { id: 5 as FolderId, name: "Other", type: "Folder", path: "/Other" }] })
      yield* h.control.addList("vip", 5 as FolderId)
      yield* h.send([event("vip", "u1", ["a@example.com"], true), event("other", "u1", ["a@example.com"], true)])
      const summary = yield* h.tick()
      expect(summary.audiences.find((a) => a.audience === "vip")?.error).toMatchObject({ tag: "MarketoRejected", code: "709" })
      const vip = Option.getOrThrow(yield* h.provide(getAudience("vip" as AudienceKey)))
      expect(vip.lastError?.message).toMatch(/already exists outside folder "Engage Audiences"/)
      expect(yield* h.control.members("other")).toEqual(["a@example.com"])
    }))

  it.effect("a display name names the list", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      expect(yield* Effect.flip(h.provide(setDisplayName("vip" as AudienceKey, "   ")))).toMatchObject({ _tag: "InvalidName" })
      expect(yield* Effect.flip(h.provide(setDisplayName("vip" as AudienceKey, "x".repeat(256))))).toMatchObject({ _tag: "InvalidName" })
      yield* h.provide(setDisplayName("vip" as AudienceKey, "  VIP customers "))
      yield* h.send([event("vip", "u1", ["a@example.com"], true)])
      yield* h.untilQuiet
      expect(yield* h.control.members("VIP customers")).toEqual(["a@example.com"])
    }))

  it.effect("says so when the folder does not exist", () =>
    Effect.gen(function*() {
      const h = yield* harness({ folders: [] })
      yield* h.send(["vip", "news", "beta"].map((key) => event(key, "u1", ["a@example.com"], true)))
      const summary = yield* h.tick()
      expect(summary.audiences.map((a) => a.error?.code)).toEqual(["710", "710", "710"])
      expect(summary.audiences[0]?.error?.message).toMatch(/create it under Lead Database → Group Lists/)
      // Learned once per tick: the other audiences record it without a call of their own.
      expect(summary.calls).toBe(1)
      expect((yield* h.control.state).calls).toBe(1)
      const news = Option.getOrThrow(yield* h.provide(getAudience("news" as AudienceKey)))
      expect(news.lastError).toMatchObject({ tag: "MarketoRejected", code: "710" })
    }))

  it.effect("imports a large delta, confirms it by polling on a later tick", () =>
    Effect.gen(function*() {
      const h = yield* harness({ pollsUntilComplete: 1 })
      const emails = Array.from({ length: 2000 }, (_, i) => `user${i}@example.com`)
      yield* h.send(emails.map((e, i) => event("big", `u${i}`, [e], true)))
      const first = yield* h.tick()
      expect(first.audiences[0]?.stepsDone).toBe(4) // folder, list, rows staged, the staged file sent
      expect(yield* h.control.members("big")).toEqual([])
      yield* h.untilQuiet
      expect((yield* h.control.members("big")).length).toBe(2000)
      const big = Option.getOrThrow(yield* h.provide(getAudience("big" as AudienceKey)))
      expect(big).toMatchObject({ synced: 2000, pendingImports: [], pending: { add: 0, remove: 0 } })
    }))

  it.effect("plans a failed import again", () =>
    Effect.gen(function*() {
      const h = yield* harness({ failImports: true })
      yield* h.send(Array.from({ length: 400 }, (_, i) => event("big", `u${i}`, [`user${i}@example.com`], true)))
      yield* h.tick()
      yield* TestClock.adjust("1 minute")
      yield* h.tick() // the poll finds it Failed
      const after = Option.getOrThrow(yield* h.provide(getAudience("big" as AudienceKey)))
      expect(after).toMatchObject({ pendingImports: [], pending: { add: 400 } })
      const again = yield* h.tick()
      expect(again.audiences[0]?.stepsDone).toBe(2) // rows staged again, sent as a new import
    }))

  it.effect("does not retry an email Marketo refuses until it changes", () =>
    Effect.gen(function*() {
      const h = yield* harness({ refuse: new Map([["bad@example.com", "1003"]]) })
      yield* h.send([event("vip", "u1", ["bad@example.com"], true), event("vip", "u2", ["ok@example.com"], true)])
      yield* h.untilQuiet
      const calls = (yield* h.control.state).calls
      yield* h.tick()
      yield* h.tick()
      expect((yield* h.control.state).calls).toBe(calls)
      expect(yield* h.control.members("vip")).toEqual(["ok@example.com"])
    }))
})
