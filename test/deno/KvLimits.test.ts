// The limits adapters/deno/KvLimits.ts states hold in the Deno this project runs (a Deno upgrade
// that lowers one fails here, not in production).
import { KvLimits } from "../../adapters/deno/KvLimits.ts"

const directory = Deno.env.get("DENO_KV_DIR") ?? (await Deno.makeTempDir({ prefix: "deno-kv-" }))

const refused = async (what: string, commit: () => Promise<unknown>) => {
  try {
    await commit()
  } catch {
    return
  }
  throw new Error(`${what} was accepted: the limit is higher than KvLimits says`)
}

Deno.test("Deno KV's limits are those of KvLimits", async () => {
  const kv = await Deno.openKv(`${directory}/limits.sqlite3`)
  try {
    await kv.set(["value"], new Uint8Array(KvLimits.valueBytes))
    await refused("a value one byte over", () => kv.set(["value"], new Uint8Array(KvLimits.valueBytes + 1)))
    await kv.set(["k".repeat(KvLimits.keyBytes - 8)], 1)
    await refused("a key over the key size", () => kv.set(["k".repeat(KvLimits.keyBytes)], 1))
    const mutations = (n: number) => Array.from({ length: n }, (_, i) => i).reduce((op, i) => op.set(["m", i], i), kv.atomic())
    await mutations(KvLimits.mutations).commit()
    await refused("one mutation more", () => mutations(KvLimits.mutations + 1).commit())
    const checks = (n: number) => Array.from({ length: n }, (_, i) => i).reduce((op, i) => op.check({ key: ["c", i], versionstamp: null }), kv.atomic())
    await checks(KvLimits.checks).commit()
    await refused("one check more", () => checks(KvLimits.checks + 1).commit())
    const big = (n: number) => Array.from({ length: n }, (_, i) => i).reduce((op, i) => op.set(["b", i], new Uint8Array(KvLimits.valueBytes)), kv.atomic())
    await big(Math.floor(KvLimits.mutationBytes / KvLimits.valueBytes)).commit()
    await refused("one operation over the mutation size", () => big(Math.floor(KvLimits.mutationBytes / KvLimits.valueBytes) + 1).commit())
    const keys = (n: number) => Array.from({ length: n }, (_, i) => ["m", i] as Deno.KvKey)
    await kv.getMany(keys(KvLimits.getMany))
    await refused("one key more in getMany", () => kv.getMany(keys(KvLimits.getMany + 1)))
  } finally {
    kv.close()
  }
})
