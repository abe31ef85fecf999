// The mapped lead fields checked against the instance's own, once: the first tick asks Marketo's
// describe2 (one call, under the lease and the budget) and keeps the answer in the instance's
// Durable Object; later ticks, the status page and GET /admin/status read it from there. A field
// Marketo does not know, or only Marketo writes, is a configuration problem named by field, and
// is not sent; the other fields are. A check with problems is made again after an hour (a field
// created in Marketo meanwhile is then sent), and at once when MARKETO_LEAD_FIELDS changes.
import { Effect, Either, Option } from "effect"
import { rpcCall } from "../adapters/cloudflare/RpcCall.js"
import { acceptedFields, checkLeadFields, checkStands, fieldCheckProblems, type LeadFieldCheck } from "../core/marketo/LeadFieldCheck.js"
import type { LeadFieldSettings as TickLeadFields } from "../core/5-tick/LeadFieldSync.js"
import { MarketoApi } from "../core/ports/MarketoApi.js"
import { instanceFor, run } from "./Layers.js"
import type { PlatformService } from "./Platform.js"
import type { MarketoSettings } from "./Settings.js"

const mappedFields = (settings: MarketoSettings) => settings.leadFields.mapping.map((m) => m.field)

/**
 * The fields a tick sends, and when: from the stored check, or a new one. Without an answer from
 * Marketo the tick sends no field (the values stay in the ledger and are sent with later adds or,
 * with `always`, as updates).
 */
export const checkedLeadFields = (platform: PlatformService, settings: MarketoSettings) =>
  Effect.gen(function*() {
    const mapped = mappedFields(settings)
    if (mapped.length === 0) return undefined
    const instance = instanceFor(platform, settings.endpoint)
    const now = Date.now()
    const stored = yield* Effect.option(rpcCall("getLeadFieldCheck", () => instance.getLeadFieldCheck()))
    let check: LeadFieldCheck | undefined = Option.getOrUndefined(stored) ?? undefined
    if (!checkStands(check, mapped, now)) {
      const described = yield* Effect.either(Effect.flatMap(MarketoApi, (api) => api.describeLeadFields()))
      if (Either.isLeft(described)) {
        yield* Effect.logWarning("lead fields not checked; none sent this tick").pipe(Effect.annotateLogs({ error: described.left._tag }))
        return undefined
      }
      check = checkLeadFields(mapped, described.right, now)
      const kept = check
      yield* Effect.ignore(rpcCall("setLeadFieldCheck", () => instance.setLeadFieldCheck(kept)))
      yield* Effect.logInfo("lead fields checked").pipe(Effect.annotateLogs({ fields: mapped.join(","), problems: fieldCheckProblems(check).length }))
    }
    return { send: acceptedFields(mapped, check), update: settings.leadFields.update } satisfies TickLeadFields
  })

/**
 * The fields a tick would send, for a dry run (the plan route, the status page's next plans): from
 * the stored check only, never calling Marketo. Before the first check, every mapped field (the
 * first tick checks them, and sends those Marketo knows).
 */
export const plannedLeadFields = (platform: PlatformService, settings: MarketoSettings) =>
  Effect.gen(function*() {
    const mapped = mappedFields(settings)
    if (mapped.length === 0) return undefined
    const stored = yield* Effect.option(rpcCall("getLeadFieldCheck", () => instanceFor(platform, settings.endpoint).getLeadFieldCheck()))
    const check = Option.getOrUndefined(stored) ?? undefined
    return { send: check === undefined ? mapped : acceptedFields(mapped, check), update: settings.leadFields.update } satisfies TickLeadFields
  })

export interface LeadFieldsView {
  readonly mapping: ReadonlyArray<{ readonly field: string; readonly traits: ReadonlyArray<string> }>
  readonly update: "on-add" | "always"
  readonly partition: string | null
  /** The check the ticks use, or null before the first tick has made one. */
  readonly check: LeadFieldCheck | null
  /** One sentence per mapped field that is not sent. */
  readonly problems: ReadonlyArray<string>
}

/** What the status page and GET /admin/status show: the settings and the stored check, no Marketo call. */
export const leadFieldsView = async (platform: PlatformService, settings: MarketoSettings): Promise<LeadFieldsView> => {
  const stored = await run(Effect.either(rpcCall("getLeadFieldCheck", () => instanceFor(platform, settings.endpoint).getLeadFieldCheck())))
  const mapped = mappedFields(settings)
  const check = Either.getOrNull(stored)
  // A check made for other fields (MARKETO_LEAD_FIELDS changed since) says nothing of these.
  const current = check !== null && checkStands(check, mapped, check.checkedAt) ? check : null
  return {
    mapping: settings.leadFields.mapping,
    update: settings.leadFields.update,
    partition: settings.leadFields.partition ?? null,
    check: current,
    problems: current === null ? [] : fieldCheckProblems(current)
  }
}
