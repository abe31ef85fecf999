import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import type { Email } from "../../../core/1-events/Email.js"
import { DEFAULT_SHARD_COUNT, emailHash, groupByShard, shardOf } from "../../../core/2-ledger/Sharding.js"

const email = (s: string) => s as Email
const arbEmail = fc.emailAddress().map(email)

describe("Sharding", () => {
  it("assigns known emails to pinned shards (a new hash would strand every stored shard)", () => {
    // 32-bit FNV-1a, computed independently of this code.
    expect(emailHash("ada@example.com")).toBe(0xbef5cfd2)
    expect(emailHash("a@b.co")).toBe(0xfb17d22e)
    expect(shardOf(email("ada@example.com"), 64)).toBe(18)
    expect(shardOf(email("grace@example.com"), 64)).toBe(2)
    expect(shardOf(email("a@b.co"), 64)).toBe(46)
    expect(shardOf(email("user0@example.com"), 64)).toBe(7)
    expect(shardOf(email("x@y.z"), 16)).toBe(12)
  })

  it("gives every email one shard in range, the same on every call", () => {
    fc.assert(fc.property(arbEmail, fc.integer({ min: 1, max: 1024 }), (e, count) => {
      const shard = shardOf(e, count)
      expect(Number.isInteger(shard)).toBe(true)
      expect(shard).toBeGreaterThanOrEqual(0)
      expect(shard).toBeLessThan(count)
      expect(shardOf(email(`${e}`), count)).toBe(shard)
    }), { numRuns: 500 })
  })

  it("spreads emails evenly (chi-square over 64 shards)", () => {
    const n = 64_000
    const counts = new Array<number>(DEFAULT_SHARD_COUNT).fill(0)
    for (let i = 0; i < n; i++) counts[shardOf(email(`user${i}@example.com`), DEFAULT_SHARD_COUNT)]!++
    const expected = n / DEFAULT_SHARD_COUNT
    const chiSquare = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0)
    // 63 degrees of freedom: mean 63, standard deviation about 11; 120 is beyond five of them.
    expect(chiSquare).toBeLessThan(120)
    expect(Math.min(...counts)).toBeGreaterThan(expected * 0.85)
    expect(Math.max(...counts)).toBeLessThan(expected * 1.15)
  })

  it("groups items by shard, each in its shard, none lost, arrival order kept", () => {
    fc.assert(fc.property(fc.array(arbEmail, { maxLength: 200 }), fc.integer({ min: 1, max: 64 }), (emails, count) => {
      const items = emails.map((e, i) => ({ email: e, i }))
      const groups = groupByShard(items, count)
      let total = 0
      for (const [shard, group] of groups) {
        expect(group.length).toBeGreaterThan(0)
        for (const item of group) expect(shardOf(item.email, count)).toBe(shard)
        expect(group.map((g) => g.i)).toEqual([...group.map((g) => g.i)].sort((a, b) => a - b))
        total += group.length
      }
      expect(total).toBe(items.length)
    }), { numRuns: 300 })
  })
})
