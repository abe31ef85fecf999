// The StateStore port over a directory, one file per key, for `npm run bench:tick-heap`: the
// audience's state lives outside the measured process, as it lives in KV outside a Worker's
// isolate, so the process's heap holds only what a tick holds.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer, Option } from "effect"
import { StateStore, StateStoreFailure, type StateStoreService } from "../../core/ports/StateStore.js"

export const make = (directory: string): StateStoreService => {
  mkdirSync(directory, { recursive: true })
  const fileOf = (key: string) => join(directory, encodeURIComponent(key))
  const attempt = <A>(key: string, f: () => A) =>
    Effect.try({ try: f, catch: (e) => new StateStoreFailure({ key, message: e instanceof Error ? e.message : String(e) }) })
  const read = (key: string): Option.Option<string> => {
    try {
      return Option.some(readFileSync(fileOf(key), "utf8"))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return Option.none()
      throw e
    }
  }
  // Written aside, then renamed: a reader sees the old value or the new one, never half of one.
  // "#" never appears in an encoded key, so a file being written is never taken for a key.
  const write = (key: string, value: string) => {
    const file = fileOf(key)
    writeFileSync(`${file}#writing`, value)
    renameSync(`${file}#writing`, file)
  }
  return {
    get: (key) => attempt(key, () => read(key)),
    getMany: (keys) => attempt(keys[0] ?? "", () => new Map(keys.map((k) => [k, read(k)]))),
    set: (key, value) => attempt(key, () => write(key, value)),
    setMany: (entries) => attempt(entries[0]?.[0] ?? "", () => entries.forEach(([k, v]) => write(k, v))),
    remove: (keys) => attempt(keys[0] ?? "", () => keys.forEach((k) => rmSync(fileOf(k), { force: true }))),
    list: (prefix) =>
      attempt(prefix, () =>
        readdirSync(directory)
          .filter((name) => !name.includes("#"))
          .map(decodeURIComponent)
          .filter((key) => key.startsWith(prefix))
          .sort())
  }
}

export const layer = (directory: string): Layer.Layer<StateStore> => Layer.sync(StateStore, () => make(directory))
