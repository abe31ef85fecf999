// The sync's own health, for GET /admin/status and the status page: the last tick and how many
// failed in a row (from the instance's day of tick records), what waits in the inbox, and
// what sits in the quarantine.
import { Effect, Either } from "effect"
import { rpcCall } from "../adapters/cloudflare/RpcCall.js"
import { inboxView, type InboxView } from "../core/2-ledger/Inbox.js"
import { quarantineView, type QuarantineView } from "../core/2-ledger/Quarantine.js"
import { failedTicksInARow, type TickRecord } from "../core/5-tick/TickOutcome.js"
import { instanceFor, run, stateLayer } from "./Layers.js"
import type { PlatformService } from "./Platform.js"
import { hintFor } from "./Hints.js"

export interface TickHealth {
  readonly lastTick: (Omit<TickRecord, "error"> & { readonly error?: { readonly tag: string; readonly code?: string; readonly message: string; readonly hint: string } }) | null
  readonly failedTicksInARow: number
  readonly inbox: { readonly entries: number; readonly changes: number; readonly oldestAgeSeconds: number | null; readonly audiences: InboxView["audiences"] } | null
  readonly quarantine: QuarantineView | null
  /** The last day's ticks, oldest first. */
  readonly history: ReadonlyArray<TickRecord>
}

const withHint = ({ error, ...rest }: TickRecord): NonNullable<TickHealth["lastTick"]> =>
  error === undefined ? rest : { ...rest, error: { ...error, hint: hintFor({ tag: error.tag, code: error.code ?? "" }) } }

export const tickHealth = async (platform: PlatformService, endpoint: string, now: number): Promise<TickHealth> => {
  const history = await run(Effect.either(rpcCall("tickHistory", () => instanceFor(platform, endpoint).tickHistory())))
  const waiting = await run(Effect.either(Effect.all([inboxView(), quarantineView()]).pipe(Effect.provide(stateLayer(platform, endpoint)))))
  const ticks = Either.getOrElse(history, (): ReadonlyArray<TickRecord> => [])
  const last = ticks.at(-1)
  const [inbox, quarantine] = Either.isRight(waiting) ? waiting.right : [undefined, undefined]
  return {
    lastTick: last === undefined ? null : withHint(last),
    failedTicksInARow: failedTicksInARow(ticks),
    inbox: inbox === undefined ? null : {
      entries: inbox.entries,
      changes: inbox.changes,
      oldestAgeSeconds: inbox.oldestReceivedAt === undefined ? null : Math.max(0, Math.round((now - inbox.oldestReceivedAt) / 1000)),
      audiences: inbox.audiences
    },
    quarantine: quarantine ?? null,
    history: ticks
  }
}
