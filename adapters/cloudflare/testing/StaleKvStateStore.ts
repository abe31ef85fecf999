// KvStateStore over a KV that hides recent writes (see StaleKv.ts): the store as a reader in
// another location sees it right after a write.
import { Layer } from "effect"
import { StateStore } from "../../../core/ports/StateStore.js"
import * as KvStateStore from "../KvStateStore.js"
import { makeStaleKv } from "./StaleKv.js"

export const layer = (kv: KvStateStore.KvValues, pointers: KvStateStore.PointerStore, delayMillis: number): Layer.Layer<StateStore> =>
  Layer.succeed(StateStore, KvStateStore.make(makeStaleKv(kv, delayMillis), pointers))
