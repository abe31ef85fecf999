// A contract: what every implementation of a port must do, written once as plain cases that any
// test runner can run (vitest in Node, vitest inside workerd, `deno test`). A case receives a
// harness, which opens a fresh implementation for it, and fails by throwing ContractViolation.
// Only `effect` is imported here and in the suites, so they run unchanged on every runtime.
import { Effect, Exit, Option, type Scope } from "effect"

export interface ContractCase<H> {
  readonly name: string
  readonly run: (harness: H) => Effect.Effect<void, unknown, Scope.Scope>
}

export class ContractViolation extends Error {
  override readonly name = "ContractViolation"
}

/** Run one case; its scope (databases opened, fibers forked) closes when it ends. */
export const runCase = <H>(c: ContractCase<H>, harness: H): Promise<void> => Effect.runPromise(Effect.scoped(c.run(harness)))

/** Maps, sets and Options as plain data, so two answers compare by what they hold. */
const plain = (value: unknown): unknown => {
  if (value instanceof Map) return { map: [...value].map(([k, v]) => [plain(k), plain(v)]).sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)) }
  if (Option.isOption(value)) return Option.isSome(value) ? { some: plain(value.value) } : { none: true }
  if (Array.isArray(value)) return value.map(plain)
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== "stack").map(([k, v]) => [k, plain(v)]))
  }
  return value
}

const shown = (value: unknown) => {
  const text = JSON.stringify(plain(value))
  return text !== undefined && text.length > 300 ? `${text.slice(0, 300)}… (${text.length} characters)` : String(text)
}

export const check = (ok: boolean, what: string, detail?: unknown): void => {
  if (!ok) throw new ContractViolation(detail === undefined ? what : `${what}: ${shown(detail)}`)
}

export const equal = <A>(actual: A, expected: A, what: string): void => {
  const a = JSON.stringify(plain(actual))
  const e = JSON.stringify(plain(expected))
  if (a !== e) throw new ContractViolation(`${what}: expected ${shown(expected)}, got ${shown(actual)}`)
}

/** The error an effect failed with (a success or a defect violates the contract). */
export const failureOf = <A, E, R>(effect: Effect.Effect<A, E, R>, what: string): Effect.Effect<E, never, R> =>
  Effect.map(Effect.exit(effect), (exit) => {
    if (Exit.isSuccess(exit)) throw new ContractViolation(`${what}: expected a failure, got ${shown(exit.value)}`)
    const failure = exit.cause._tag === "Fail" ? Option.some(exit.cause.error) : Option.none()
    if (Option.isNone(failure)) throw new ContractViolation(`${what}: expected a failure, got ${String(exit.cause)}`)
    return failure.value
  })
