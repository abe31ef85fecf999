// Fresh Deno KV databases for the Deno tests: one file per case under the directory the runner
// names (DENO_KV_DIR, removed by scripts/deno-test.mjs afterwards), opened twice so that `second`
// handles are separate connections, as two isolates or processes of a deployment would be.
import { Effect, type Scope } from "effect"
import type { DenoKvService } from "../../adapters/deno/DenoKv.ts"
import { type ContractCase, runCase } from "../contracts/Contract.ts"

const directory = Deno.env.get("DENO_KV_DIR") ?? (await Deno.makeTempDir({ prefix: "deno-kv-" }))

const connect = (path: string) =>
  Effect.acquireRelease(Effect.promise(() => Deno.openKv(path)), (kv) => Effect.sync(() => kv.close()))

/** Two connections to a new database, closed when the case's scope ends. */
export const freshPair: Effect.Effect<readonly [DenoKvService, DenoKvService], never, Scope.Scope> = Effect.gen(function*() {
  // Test files run in isolates of their own: only a random name is sure to be new.
  const path = `${directory}/${crypto.randomUUID()}.sqlite3`
  const prefix = ["https://123-abc-456.mktorest.com"]
  return [{ kv: yield* connect(path), prefix }, { kv: yield* connect(path), prefix }] as const
})

/** A contract's cases as Deno tests. */
export const contract = <H>(name: string, cases: ReadonlyArray<ContractCase<H>>, harness: H): void => {
  // Effect's scheduler and the budget's sleeps leave timers the sanitizers would count; each
  // case's scope closes its databases itself.
  for (const c of cases) Deno.test({ name: `${name} > ${c.name}`, sanitizeOps: false, sanitizeResources: false, fn: () => runCase(c, harness) })
}
