// The filter of a base's emails: never "absent" for an email the base holds (the fold trusts it
// and would otherwise forget the email's record), rarely "maybe" for one it does not hold.
import { describe, expect, it } from "vitest"
import fc from "fast-check"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { baseLineKeys, decodeFilter, encodeFilter, filterKey, filterOf, mayHold } from "../../../core/2-ledger/BaseFilter.js"
import { encodeBaseLines } from "../../../core/2-ledger/BaseLines.js"

const emails = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`)

describe("BaseFilter", () => {
  it("holds every email it was made of, whatever the characters", () => {
    fc.assert(fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 300 }), (all) => {
      const filter = filterOf(all.map(filterKey), all.length)
      for (const e of all) expect(mayHold(filter, e)).toBe(true)
    }), { numRuns: 200 })
  })

  it("says maybe of about one email in two thousand it does not hold, at the size of a large shard", () => {
    const held = emails("in", 30_000)
    const filter = filterOf(held.map(filterKey), held.length)
    const wrong = emails("out", 30_000).filter((e) => mayHold(filter, e)).length
    // 16 bits and 11 probes per email: about 0.05%, some 14 of 30,000.
    expect(wrong).toBeLessThan(60)
    expect(filter.bits.length).toBe(60_000)
  })

  it("reads the keys of a base in lines without parsing its records, and comes back as stored", () => {
    const held = ["a@example.com", "quote\"d@example.com", "b@example.com"]
    const text = encodeBaseLines({ audience: "vip" as AudienceKey, shard: 3, emails: Object.fromEntries(held.map((e) => [e, { holders: [], synced: true }])) })
    expect([...baseLineKeys(text)].sort()).toEqual(held.map(filterKey).sort())
    const filter = decodeFilter(encodeFilter(filterOf(baseLineKeys(text), held.length)))
    expect(filter).toBeDefined()
    for (const e of held) expect(mayHold(filter!, e)).toBe(true)
    expect([...baseLineKeys(encodeBaseLines({ audience: "vip" as AudienceKey, shard: 3, emails: {} }))]).toEqual([])
  })

  it("a stored filter that does not decode is none (its base is then read)", () => {
    for (const text of ["", "{", "{\"probes\":11}", "{\"probes\":0,\"bits\":\"AAAA\"}", "{\"probes\":11,\"bits\":\"!!\"}", "null"]) {
      expect(decodeFilter(text)).toBeUndefined()
    }
  })
})
