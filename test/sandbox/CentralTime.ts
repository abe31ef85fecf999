// US Central time (America/Chicago) computed from the US daylight-saving rule in force since 2007,
// without Intl: the daily quota turns at Chicago midnight, and this runs the same in Node and
// workerd and costs nothing per call. Central Standard Time is UTC-6; daylight time (UTC-5) runs
// from the second Sunday of March, 02:00 local, to the first Sunday of November, 02:00 local.
const hour = 3_600_000
const day = 24 * hour

/** UTC midnight of the `n`-th Sunday of `month` (0-based) in `year`. */
const nthSunday = (year: number, month: number, n: number) => {
  const first = Date.UTC(year, month, 1)
  const weekday = new Date(first).getUTCDay()
  return first + (((7 - weekday) % 7) + 7 * (n - 1)) * day
}

/** Chicago's offset from UTC at the instant `now` (ms): -5 h in daylight time, else -6 h. */
export const centralOffsetMillis = (now: number): number => {
  // The transitions are far from New Year, so the standard-time year is the year everywhere near them.
  const year = new Date(now - 6 * hour).getUTCFullYear()
  const daylightStarts = nthSunday(year, 2, 2) + 8 * hour // 02:00 CST = 08:00 UTC
  const daylightEnds = nthSunday(year, 10, 1) + 7 * hour // 02:00 CDT = 07:00 UTC
  return now >= daylightStarts && now < daylightEnds ? -5 * hour : -6 * hour
}

/** The Chicago calendar day of `now`, as a day number (days since 1970-01-01 in Chicago). */
export const centralDay = (now: number): number => Math.floor((now + centralOffsetMillis(now)) / day)

/** The Chicago date of `now`, `YYYY-MM-DD`. */
export const centralDate = (now: number): string => new Date(centralDay(now) * day).toISOString().slice(0, 10)

/** The instant of the next Chicago midnight after `now` (when the daily quota resets). */
export const nextCentralMidnight = (now: number): number => {
  const next = (centralDay(now) + 1) * day
  // Midnight is never inside a transition (they happen at 02:00), so the offset at a guess
  // six hours past local midnight settles it.
  return next - centralOffsetMillis(next + 6 * hour)
}
