import { env, runInDurableObject } from "cloudflare:test"
import { describe, expect, it } from "vitest"
import { instanceName, instanceStub } from "../../adapters/cloudflare/MarketoInstanceApi.js"
import { arrivalMarginMillis } from "../../core/marketo/RateBudget.js"
import { MarketoInstance } from "../../workers/MarketoInstance.js"

const stubFor = (name: string) => env.MARKETO_INSTANCE.get(env.MARKETO_INSTANCE.idFromName(name))
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

describe("MarketoInstance rate budget", () => {
  it("never grants more than the concurrency cap to 200 simultaneous callers", async () => {
    const stub = stubFor("budget-concurrency")
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => stub.acquire(`p${i}`)))
    const granted = answers.filter((a) => a._tag === "Granted")
    expect(granted.length).toBe(Number(env.MARKETO_MAX_CONCURRENCY))
    expect(answers.filter((a) => a._tag === "Wait").length).toBe(200 - granted.length)
    const status = await stub.status()
    expect(status.inFlight).toBe(Number(env.MARKETO_MAX_CONCURRENCY))
    expect(status.usedToday).toBe(granted.length)
  })

  it("never grants more than the window to waves of 200 simultaneous callers that release at once", async () => {
    const stub = stubFor("budget-window")
    const limit = Number(env.MARKETO_CALLS_PER_20S)
    let granted = 0
    // Each wave gets at most the concurrency cap; enough waves to fill the window twice over.
    for (let wave = 0; wave < (2 * limit) / Number(env.MARKETO_MAX_CONCURRENCY); wave++) {
      const answers = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const answer = await stub.acquire(`w${wave}-p${i}`)
          if (answer._tag === "Granted") await stub.release(answer.permitId)
          return answer
        })
      )
      granted += answers.filter((a) => a._tag === "Granted").length
      // Callers turned away are told to wait no longer than the window (and the arrival margin).
      for (const a of answers) if (a._tag === "Wait") expect(a.retryAfterMillis).toBeLessThanOrEqual(20_000 + arrivalMarginMillis)
    }
    const status = await stub.status()
    expect(granted).toBe(limit)
    expect(status.usedInWindow).toBe(limit)
    expect(status.inFlight).toBe(0)
  })

  it("keeps the budget in its storage and answers a repeated permit id without a second charge", async () => {
    const stub = stubFor("budget-persisted")
    expect((await stub.acquire("same"))._tag).toBe("Granted")
    expect((await stub.acquire("same"))._tag).toBe("Granted")
    expect((await stub.status()).usedToday).toBe(1)
    const stored = await runInDurableObject(stub, (_instance, state) => state.storage.kv.get<{ usedToday: number }>("budget")?.usedToday)
    expect(stored).toBe(1)
  })

  it("a new instance of the object over the same storage (a restart) keeps budget, token, lease and pointers", async () => {
    const stub = stubFor("restart")
    await stub.acquire("held")
    await stub.setToken({ token: "t", expiresAt: 9 })
    await stub.acquireLease("tick", 60_000)
    const [version = 0] = await stub.allocateVersions(1)
    await stub.commit([{ key: "k", version }])
    const seen = await runInDurableObject(stub, (_instance, state) => {
      const restarted = new MarketoInstance(state, env)
      return {
        status: restarted.status(),
        again: restarted.acquire("held"),
        token: restarted.getToken(),
        lease: restarted.acquireLease("other", 60_000),
        pointers: restarted.list(""),
        next: restarted.allocateVersions(1)
      }
    })
    expect(seen.status).toMatchObject({ usedToday: 1, inFlight: 1 })
    expect(seen.again._tag).toBe("Granted")
    expect(seen.token).toEqual({ token: "t", expiresAt: 9 })
    expect(seen.lease).toMatchObject({ granted: false, holder: "tick" })
    expect(seen.pointers).toEqual([{ key: "k", version }])
    expect(seen.next[0]).toBe(version + 1)
  })

  it("607 stops calls until midnight US Central", async () => {
    const stub = stubFor("budget-607")
    await stub.signal("607")
    const answer = await stub.acquire("a")
    expect(answer._tag).toBe("Exhausted")
    if (answer._tag === "Exhausted") {
      expect(answer.reason).toBe("marketo-607")
      expect(answer.resumesAt).toBe((await stub.status()).resetsAt)
    }
  })
})

describe("MarketoInstance sync lease", () => {
  it("is exclusive until released or expired", async () => {
    const stub = stubFor("lease")
    expect(await stub.acquireLease("tick-1", 60_000)).toMatchObject({ granted: true, holder: "tick-1" })
    expect(await stub.acquireLease("tick-2", 60_000)).toMatchObject({ granted: false, holder: "tick-1" })
    expect(await stub.renewLease("tick-2", 60_000)).toMatchObject({ granted: false })
    expect(await stub.releaseLease("tick-2")).toBe(false)
    expect(await stub.renewLease("tick-1", 60_000)).toMatchObject({ granted: true })
    expect(await stub.releaseLease("tick-1")).toBe(true)
    expect(await stub.acquireLease("tick-2", 60_000)).toMatchObject({ granted: true, holder: "tick-2" })
  })

  it("expires by itself, and the old holder cannot renew it once lost", async () => {
    const stub = stubFor("lease-expiry")
    expect((await stub.acquireLease("crashed", 50)).granted).toBe(true)
    expect((await stub.acquireLease("next", 60_000)).granted).toBe(false)
    await sleep(80)
    expect(await stub.acquireLease("next", 60_000)).toMatchObject({ granted: true, holder: "next" })
    expect((await stub.renewLease("crashed", 60_000)).granted).toBe(false)
  })

  it("lets exactly one of many simultaneous ticks take it", async () => {
    const stub = stubFor("lease-race")
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => stub.acquireLease(`tick-${i}`, 60_000)))
    expect(answers.filter((a) => a.granted).length).toBe(1)
  })
})

describe("MarketoInstance version pointers", () => {
  it("hands out each version once, moves pointers only forward, lists and removes", async () => {
    const stub = stubFor("pointers")
    const versions = (await Promise.all(Array.from({ length: 20 }, () => stub.allocateVersions(3)))).flat()
    expect(new Set(versions).size).toBe(60)

    const [v1 = 0, v2 = 0, v3 = 0] = await stub.allocateVersions(3)
    expect(await stub.commit([{ key: "a/1", version: v2 }, { key: "a/2", version: v1 }, { key: "b/1", version: v1 }])).toEqual([
      { key: "a/1", version: v2, previous: null, applied: true },
      { key: "a/2", version: v1, previous: null, applied: true },
      { key: "b/1", version: v1, previous: null, applied: true }
    ])
    // A slow writer with an older version cannot move the pointer back.
    expect(await stub.commit([{ key: "a/1", version: v1 }])).toEqual([{ key: "a/1", version: v1, previous: v2, applied: false }])
    expect(await stub.commit([{ key: "a/1", version: v3 }])).toEqual([{ key: "a/1", version: v3, previous: v2, applied: true }])

    expect(await stub.getPointers(["a/1", "missing", "b/1"])).toEqual([{ key: "a/1", version: v3 }, { key: "b/1", version: v1 }])
    expect(await stub.list("a/")).toEqual([{ key: "a/1", version: v3 }, { key: "a/2", version: v1 }])
    expect(await stub.list("")).toEqual([{ key: "a/1", version: v3 }, { key: "a/2", version: v1 }, { key: "b/1", version: v1 }])
    expect(await stub.remove(["a/1", "missing"])).toEqual([{ key: "a/1", version: v3 }])
    expect(await stub.list("a/")).toEqual([{ key: "a/2", version: v1 }])
  })

  it("reads more keys than SQLite binds in one statement", async () => {
    const stub = stubFor("pointers-many")
    const keys = Array.from({ length: 250 }, (_, i) => `k/${String(i).padStart(3, "0")}`)
    const versions = await stub.allocateVersions(keys.length)
    await stub.commit(keys.map((key, i) => ({ key, version: versions[i]! })))
    expect((await stub.getPointers(keys)).length).toBe(250)
    expect((await stub.list("k/")).map((p) => p.key)).toEqual(keys)
    expect((await stub.remove(keys)).length).toBe(250)
    expect(await stub.list("k/")).toEqual([])
  })
})

describe("MarketoInstance token", () => {
  it("stores the shared token and clears only the one named", async () => {
    const stub = stubFor("token")
    expect(await stub.getToken()).toBeNull()
    await stub.setToken({ token: "t1", expiresAt: 1_000 })
    expect(await stub.getToken()).toEqual({ token: "t1", expiresAt: 1_000 })
    expect(await stub.clearToken("t0")).toBe(false)
    expect(await stub.clearToken("t1")).toBe(true)
    expect(await stub.getToken()).toBeNull()
  })

  it("names one object per instance however the endpoint is written", async () => {
    expect(instanceName("https://123-ABC-456.mktorest.com/rest")).toBe(instanceName("HTTPS://123-abc-456.mktorest.com"))
    await instanceStub(env.MARKETO_INSTANCE, "https://123-ABC-456.mktorest.com/rest").setToken({ token: "shared", expiresAt: 1 })
    expect(await instanceStub(env.MARKETO_INSTANCE, "https://123-abc-456.mktorest.com").getToken()).toMatchObject({ token: "shared" })
    expect(await instanceStub(env.MARKETO_INSTANCE, "https://999-abc-456.mktorest.com").getToken()).toBeNull()
  })
})

describe("MarketoInstance audience registry", () => {
  it("admits new audience keys up to the limit, exactly, however many ingest calls arrive at once", async () => {
    const stub = stubFor("registry-limit")
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => stub.admitAudiences([{ key: `k${i}`, times: [1] }], 10)))
    expect(answers.flat().filter((a) => a.admitted)).toHaveLength(10)
    // A key already admitted stays admitted; a new one is refused while ten are live.
    const admitted = answers.flat().find((a) => a.admitted)!.key
    expect(await stub.admitAudiences([{ key: admitted, times: [2] }, { key: "new", times: [2] }], 10)).toEqual([
      { key: admitted, removedAt: null, ignored: 0, admitted: true },
      { key: "new", removedAt: null, ignored: 0, admitted: false }
    ])
    // A removed key frees its place; its events older than the removal are ignored and counted.
    expect(await stub.buryAudience(admitted, 100, false)).toBe(true)
    expect(await stub.admitAudiences([{ key: "new", times: [5] }, { key: admitted, times: [50, 99] }], 10)).toEqual([
      { key: "new", removedAt: null, ignored: 0, admitted: true },
      { key: admitted, removedAt: 100, ignored: 2, admitted: true }
    ])
    expect(await stub.tombstones()).toEqual([{ key: admitted, removedAt: 100, ignored: 2, live: false }])
    // A newer event starts it again, if there is room: there is none now.
    expect((await stub.admitAudiences([{ key: admitted, times: [100] }], 10))[0]).toMatchObject({ admitted: false })
    expect(await stub.buryAudience("new", 200, true)).toBe(true)
    expect((await stub.admitAudiences([{ key: admitted, times: [100] }], 10))[0]).toMatchObject({ removedAt: 100, ignored: 0, admitted: true })
    await stub.countIgnored([{ key: admitted, ignored: 3 }])
    expect(await stub.tombstones()).toEqual([
      { key: admitted, removedAt: 100, ignored: 5, live: true },
      { key: "new", removedAt: 200, ignored: 0, live: false }
    ])
    // Only a live key is buried when asked "only if live"; an unknown one is not.
    expect(await stub.buryAudience("never-seen", 300, true)).toBe(false)
    expect((await stub.tombstones()).map((t) => t.key)).toEqual([admitted, "new"])
  })

  it("counts the audiences that existed before it (their records in the pointers) as live", async () => {
    const stub = stubFor("registry-seed")
    const versions = await stub.allocateVersions(3)
    await stub.commit([
      { key: "aud/old%2Fone", version: versions[0]! },
      { key: "aud/old%2Fone/shard/0001", version: versions[1]! },
      { key: "aud/two", version: versions[2]! }
    ])
    const answers = await runInDurableObject(stub, (_instance, state) => {
      state.storage.kv.delete("audience-registry-seeded")
      const restarted = new MarketoInstance(state, env)
      return restarted.admitAudiences([{ key: "old/one", times: [1] }, { key: "three", times: [1] }, { key: "four", times: [1] }], 3)
    })
    expect(answers.map((a) => [a.key, a.admitted])).toEqual([["old/one", true], ["three", true], ["four", false]])
  })
})
