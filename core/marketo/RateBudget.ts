// The rate budget of one Marketo instance as a pure state machine. The in-memory limiter and the
// Durable Object both run it, so they grant exactly the same calls. Every function takes the
// current time as an argument and returns a new state: no clock, no I/O, easy to test by property.
//
// Limits enforced on every grant:
// - rolling window: at most `callsPerWindow` call starts in any `windowMillis` span (plus a margin
//   for the time a call takes to reach Marketo);
// - concurrency: at most `maxConcurrency` permits held at once (a permit expires after
//   `permitTtlMillis`, so a holder that crashed cannot block the instance for ever);
// - daily quota: at most `dailyQuota - dailyReserve` calls per US Central day (Marketo resets the
//   quota at midnight America/Chicago); the reserve is left for the instance's other integrations.
// Marketo's own signals pause the instance: 606/615 until the window rolls (longer on repeats),
// 607 until the next midnight US Central.
import type { BudgetStatus } from "../ports/RateLimiter.js"

export interface RateBudgetConfig {
  readonly callsPerWindow: number
  readonly windowMillis: number
  readonly maxConcurrency: number
  readonly dailyQuota: number
  readonly dailyReserve: number
  /** A permit not released after this long is presumed lost (its holder crashed). */
  readonly permitTtlMillis: number
}

export const defaultRateBudgetConfig: RateBudgetConfig = {
  // Adobe advises half of the instance's 100 calls / 20 s: the rest is shared with other tools.
  callsPerWindow: 50,
  windowMillis: 20_000,
  maxConcurrency: 5,
  dailyQuota: 50_000,
  dailyReserve: 5_000,
  permitTtlMillis: 120_000
}

export const makeRateBudgetConfig = (overrides: Partial<RateBudgetConfig> = {}): RateBudgetConfig => {
  const config = { ...defaultRateBudgetConfig, ...overrides }
  const positive = (name: keyof RateBudgetConfig, min: number) => {
    const v = config[name]
    if (!Number.isFinite(v) || v < min) throw new RangeError(`RateBudget: ${name} must be >= ${min}, got ${v}`)
  }
  positive("callsPerWindow", 1)
  positive("windowMillis", 1)
  positive("maxConcurrency", 1)
  positive("dailyQuota", 1)
  positive("dailyReserve", 0)
  positive("permitTtlMillis", 1)
  if (config.dailyReserve >= config.dailyQuota) throw new RangeError("RateBudget: dailyReserve must be below dailyQuota")
  return config
}

export interface Permit {
  readonly id: string
  readonly expiresAt: number
}

export interface RateBudgetState {
  /** Start times of the calls granted in the current rolling window, oldest first. */
  readonly recent: ReadonlyArray<number>
  readonly inFlight: ReadonlyArray<Permit>
  readonly usedToday: number
  /** The US Central date (YYYY-MM-DD) `usedToday` counts. */
  readonly day: string
  /** Epoch ms before which no call starts (after a Marketo signal); in the past when not paused. */
  readonly pausedUntil: number
  /** Why the pause: a rate pause is waited out, a quota pause fails fast. */
  readonly pauseReason: "rate" | "quota" | "none"
  /** Consecutive 606/615 signals: each one doubles the next pause. */
  readonly strikes: number
}

export const initialRateBudgetState: RateBudgetState = {
  recent: [],
  inFlight: [],
  usedToday: 0,
  day: "",
  pausedUntil: 0,
  pauseReason: "none",
  strikes: 0
}

export type AcquireResult =
  | { readonly _tag: "Granted"; readonly state: RateBudgetState; readonly permitId: string }
  | { readonly _tag: "Wait"; readonly state: RateBudgetState; readonly retryAfterMillis: number }
  | {
    readonly _tag: "Exhausted"
    readonly state: RateBudgetState
    readonly reason: "daily-quota" | "marketo-607"
    readonly resumesAt: number
  }

/** How long a caller blocked by concurrency waits before asking again (releases are not pushed). */
export const concurrencyPollMillis = 100

/** The longest pause repeated 606/615 signals can build up to. */
const maxRatePauseMillis = 5 * 60_000

// ---------------------------------------------------------------------------------------------
// US Central time, computed from the US daylight-saving rule (since 2007): CDT (UTC-5) from the
// second Sunday of March 02:00 local (08:00 UTC) to the first Sunday of November 02:00 local
// (07:00 UTC); CST (UTC-6) otherwise. Pure arithmetic: no time zone database needed.

const hour = 3_600_000
const dayMillis = 24 * hour

/** Epoch ms of 00:00 UTC of the n-th Sunday (1-based) of a month (0-based). */
const nthSundayUtc = (year: number, month: number, n: number): number => {
  const first = Date.UTC(year, month, 1)
  const weekday = new Date(first).getUTCDay()
  const firstSunday = 1 + ((7 - weekday) % 7)
  return Date.UTC(year, month, firstSunday + 7 * (n - 1))
}

/** Offset of America/Chicago from UTC at an instant, in ms (-5 h or -6 h). */
export const chicagoOffsetMillis = (epochMillis: number): number => {
  const year = new Date(epochMillis).getUTCFullYear()
  const dstStart = nthSundayUtc(year, 2, 2) + 8 * hour
  const dstEnd = nthSundayUtc(year, 10, 1) + 7 * hour
  return epochMillis >= dstStart && epochMillis < dstEnd ? -5 * hour : -6 * hour
}

/** The US Central calendar date of an instant, as YYYY-MM-DD. */
export const chicagoDate = (epochMillis: number): string =>
  new Date(epochMillis + chicagoOffsetMillis(epochMillis)).toISOString().slice(0, 10)

/** Epoch ms of the first midnight US Central strictly after an instant. */
export const nextChicagoMidnight = (epochMillis: number): number => {
  const local = epochMillis + chicagoOffsetMillis(epochMillis)
  const localMidnight = Math.floor(local / dayMillis) * dayMillis + dayMillis
  // Transitions happen at 02:00 local, never at midnight, so the offset 6 h after the local
  // midnight read as UTC (01:00 CDT or 00:00 CST) is the offset at that midnight.
  return localMidnight - chicagoOffsetMillis(localMidnight + 6 * hour)
}

// ---------------------------------------------------------------------------------------------

/**
 * Calls are granted here and counted by Marketo when they arrive, a network hop later, and hops
 * vary: a call granted just as the window frees can land inside the window Marketo sees (a soak
 * measured 51 of 50). So a grant waits until its window plus this margin holds no more than the
 * budget.
 */
export const arrivalMarginMillis = 1_000

const spanOf = (config: RateBudgetConfig) => config.windowMillis + arrivalMarginMillis

/** Drop what time has made irrelevant: calls out of the window, expired permits, a past day. */
export const normalise = (config: RateBudgetConfig, state: RateBudgetState, now: number): RateBudgetState => {
  const since = now - spanOf(config)
  const recent = state.recent.filter((t) => t > since)
  const inFlight = state.inFlight.filter((p) => p.expiresAt > now)
  const day = chicagoDate(now)
  const newDay = day !== state.day
  return {
    recent,
    inFlight,
    usedToday: newDay ? 0 : state.usedToday,
    day,
    // A past pause is kept (its end time tells when the strikes are forgiven); it no longer blocks.
    pausedUntil: state.pausedUntil,
    pauseReason: state.pausedUntil > now ? state.pauseReason : "none",
    // A full quiet window after a pause forgives earlier 606/615s.
    strikes: state.pausedUntil + config.windowMillis <= now ? 0 : state.strikes
  }
}

export const acquire = (
  config: RateBudgetConfig,
  current: RateBudgetState,
  now: number,
  permitId: string
): AcquireResult => {
  const state = normalise(config, current, now)
  // Asking again with a granted id (a retried RPC) must not spend a second call.
  if (state.inFlight.some((p) => p.id === permitId)) return { _tag: "Granted", state, permitId }
  if (state.pausedUntil > now) {
    return state.pauseReason === "quota"
      ? { _tag: "Exhausted", state, reason: "marketo-607", resumesAt: state.pausedUntil }
      : { _tag: "Wait", state, retryAfterMillis: state.pausedUntil - now }
  }
  if (state.usedToday >= config.dailyQuota - config.dailyReserve) {
    return { _tag: "Exhausted", state, reason: "daily-quota", resumesAt: nextChicagoMidnight(now) }
  }
  if (state.recent.length >= config.callsPerWindow) {
    // The oldest call that keeps the window full leaves it at this instant.
    const oldest = state.recent[state.recent.length - config.callsPerWindow] ?? now
    return { _tag: "Wait", state, retryAfterMillis: Math.max(1, oldest + spanOf(config) - now) }
  }
  if (state.inFlight.length >= config.maxConcurrency) {
    const firstExpiry = Math.min(...state.inFlight.map((p) => p.expiresAt))
    return { _tag: "Wait", state, retryAfterMillis: Math.max(1, Math.min(concurrencyPollMillis, firstExpiry - now)) }
  }
  return {
    _tag: "Granted",
    permitId,
    state: {
      ...state,
      recent: [...state.recent, now],
      inFlight: [...state.inFlight, { id: permitId, expiresAt: now + config.permitTtlMillis }],
      usedToday: state.usedToday + 1
    }
  }
}

/** The call finished: its permit frees a concurrency slot (its window slot stays spent). */
export const release = (state: RateBudgetState, permitId: string): RateBudgetState =>
  state.inFlight.some((p) => p.id === permitId)
    ? { ...state, inFlight: state.inFlight.filter((p) => p.id !== permitId) }
    : state

export type SignalCode = "606" | "615" | "607"

export const signal = (
  config: RateBudgetConfig,
  current: RateBudgetState,
  now: number,
  code: SignalCode
): RateBudgetState => {
  const state = normalise(config, current, now)
  if (code === "607") {
    // The daily quota is gone for everyone on the instance until Marketo's reset.
    const until = nextChicagoMidnight(now)
    return { ...state, pausedUntil: Math.max(state.pausedUntil, until), pauseReason: "quota" }
  }
  // 606 (calls per 20 s) or 615 (concurrent calls): other traffic fills the instance's window.
  // Wait a full window, doubling on each repeat, capped.
  const strikes = state.strikes + 1
  const pause = Math.min(config.windowMillis * 2 ** (strikes - 1), Math.max(maxRatePauseMillis, config.windowMillis))
  const until = now + pause
  return until > state.pausedUntil
    ? { ...state, strikes, pausedUntil: until, pauseReason: state.pauseReason === "quota" ? "quota" : "rate" }
    : { ...state, strikes }
}

export const status = (config: RateBudgetConfig, current: RateBudgetState, now: number): BudgetStatus => {
  const state = normalise(config, current, now)
  return {
    callsPerWindow: config.callsPerWindow,
    windowMillis: config.windowMillis,
    maxConcurrency: config.maxConcurrency,
    usedInWindow: state.recent.length,
    inFlight: state.inFlight.length,
    dailyQuota: config.dailyQuota,
    dailyReserve: config.dailyReserve,
    usedToday: state.usedToday,
    resetsAt: nextChicagoMidnight(now),
    pausedUntil: state.pausedUntil > now ? state.pausedUntil : 0
  }
}
