// The quota day turns at Chicago midnight: the arithmetic agrees with the time zone database.
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { centralDate, centralDay, centralOffsetMillis, nextCentralMidnight } from "./CentralTime.js"

const chicago = new Intl.DateTimeFormat("en-CA", {
  timeZone: "America/Chicago",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23"
})
const parts = (at: number) => Object.fromEntries(chicago.formatToParts(at).map((p) => [p.type, p.value]))
const intlDate = (at: number) => {
  const p = parts(at)
  return `${p["year"]}-${p["month"]}-${p["day"]}`
}
const intlOffset = (at: number) => {
  const p = parts(at)
  const local = Date.UTC(Number(p["year"]), Number(p["month"]) - 1, Number(p["day"]), Number(p["hour"]), Number(p["minute"]))
  return local - Math.floor(at / 60_000) * 60_000
}
// 2008 to 2037: the rule in force since 2007.
const instant = fc.integer({ min: Date.UTC(2008, 0, 1), max: Date.UTC(2037, 11, 31) })

describe("US Central time without Intl", () => {
  it.prop("agrees with America/Chicago on the offset and the date", [instant], ([at]) => {
    expect(centralOffsetMillis(at)).toBe(intlOffset(at))
    expect(centralDate(at)).toBe(intlDate(at))
  }, { fastCheck: { numRuns: 3_000 } })

  it("switches at 02:00 local on the second Sunday of March and the first of November", () => {
    // 2026: daylight time from 8 March 08:00 UTC to 1 November 07:00 UTC.
    expect(centralOffsetMillis(Date.UTC(2026, 2, 8, 7, 59, 59))).toBe(-6 * 3_600_000)
    expect(centralOffsetMillis(Date.UTC(2026, 2, 8, 8))).toBe(-5 * 3_600_000)
    expect(centralOffsetMillis(Date.UTC(2026, 10, 1, 6, 59, 59))).toBe(-5 * 3_600_000)
    expect(centralOffsetMillis(Date.UTC(2026, 10, 1, 7))).toBe(-6 * 3_600_000)
    // Every hour around both switches, for a few years.
    for (const year of [2025, 2026, 2027, 2030]) {
      for (const [month, from] of [[2, 1], [10, 0]] as const) {
        for (let h = 0; h < 24 * 16; h++) {
          const at = Date.UTC(year, month, from, h)
          expect([year, month, h, centralOffsetMillis(at)]).toEqual([year, month, h, intlOffset(at)])
        }
      }
    }
  })

  it.prop("names the next Chicago midnight: later, within a day, at 00:00 local, the next date", [instant], ([at]) => {
    const next = nextCentralMidnight(at)
    expect(next).toBeGreaterThan(at)
    expect(next - at).toBeLessThanOrEqual(25 * 3_600_000)
    const p = parts(next)
    expect([p["hour"], p["minute"]]).toEqual(["00", "00"])
    expect(centralDay(next)).toBe(centralDay(at) + 1)
    expect(centralDay(next - 1)).toBe(centralDay(at))
  }, { fastCheck: { numRuns: 1_000 } })
})
