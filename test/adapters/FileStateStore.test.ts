// The file-backed StateStore of bench:tick-heap answers like the in-memory one, so the tick it
// measures reads and writes its state as it would in KV.
import { mkdtempSync, rmSync } from "node:fs"
import { makeStateStoreMemory } from "../../core/ports/StateStoreMemory.js"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Option } from "effect"
import fc from "fast-check"
import { afterEach, describe, expect, it } from "vitest"
import * as FileStateStore from "../../scripts/bench/FileStateStore.js"

const directories: Array<string> = []
afterEach(() => directories.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
const freshDirectory = () => {
  const d = mkdtempSync(join(tmpdir(), "file-state-"))
  directories.push(d)
  return d
}

// Keys as the sync writes them (slashes, colons, @) and a few awkward ones.
const key = fc.constantFrom("aud/vip", "aud/vip/shard/3", "aud/vip/shard/12", "inbox/1700000000000:abc", "a%b", "x.tmp", "ü/é")
const op = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), key, value: fc.string() }),
  fc.record({ kind: fc.constant("setMany" as const), entries: fc.array(fc.tuple(key, fc.string()), { maxLength: 4 }) }),
  fc.record({ kind: fc.constant("remove" as const), keys: fc.array(key, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant("getMany" as const), keys: fc.array(key, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant("list" as const), prefix: fc.constantFrom("", "aud/", "aud/vip/shard/", "inbox/", "x") })
)

describe("FileStateStore", () => {
  it("answers every sequence of operations as the in-memory store does", () =>
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const file = FileStateStore.make(freshDirectory())
        const memory = Effect.runSync(makeStateStoreMemory())
        for (const o of ops) {
          const run = (s: typeof file) =>
            Effect.runSync(
              o.kind === "set" ? s.set(o.key, o.value) :
              o.kind === "setMany" ? s.setMany(o.entries) :
              o.kind === "remove" ? s.remove(o.keys) :
              o.kind === "getMany" ? Effect.map(s.getMany(o.keys), (m) => [...m]) :
              s.list(o.prefix)
            )
          expect(run(file)).toEqual(run(memory))
        }
      }),
      { numRuns: 60 }
    ))

  it("reads what another store over the same directory wrote", () => {
    const directory = freshDirectory()
    Effect.runSync(FileStateStore.make(directory).set("aud/vip", "{\"n\":1}"))
    expect(Effect.runSync(FileStateStore.make(directory).get("aud/vip"))).toEqual(Option.some("{\"n\":1}"))
  })
})
