// Which decoded events ingest may store, by audience: keys outside AUDIENCE_KEYS are rejected, a
// new key beyond MAX_AUDIENCES is rejected, and events older than their audience's removal are
// ignored (counted, never stored). Rejections name the setting, per event, like the decoder's.
import { Effect } from "effect"
import { rpcCall, type RpcFailure } from "../adapters/cloudflare/RpcCall.js"
import type { AcceptedEvent, DecodedEvents, EventRejection } from "../core/1-events/EventDecoder.js"
import type { AudienceKey } from "../core/1-events/Ids.js"
import { describeValue } from "../core/1-events/SegmentEvent.js"
import type { Admission, AdmissionRequest } from "./AudienceAdmission.js"
import { allowsKey } from "./AudienceKeys.js"
import type { IngestSettings } from "./Settings.js"

export interface Admitted {
  /** What may be stored: the accepted events of admitted audiences, newer than any removal. */
  readonly events: DecodedEvents
  /** Events older than their audience's removal. */
  readonly ignored: number
}

/** The instance's admission call (workers/Platform.ts's InstanceRecords satisfies it). */
export interface Registry {
  readonly admitAudiences: (requests: ReadonlyArray<AdmissionRequest>, maxAudiences: number) => Promise<Array<Admission>>
}

const notListed = (key: AudienceKey) => `audience ${describeValue(key)} is not in AUDIENCE_KEYS`
const full = (key: AudienceKey, max: number) =>
  `audience ${describeValue(key)} is new and MAX_AUDIENCES (${max}) audiences exist: remove one (DELETE /admin/audiences/:key) or raise MAX_AUDIENCES`

export const admitEvents = (decoded: DecodedEvents, settings: IngestSettings, registry: Registry): Effect.Effect<Admitted, RpcFailure> =>
  Effect.gen(function*() {
    const rejected: Array<EventRejection> = [...decoded.rejected]
    const listed = decoded.memberships.filter((e) => {
      if (settings.audienceKeys === undefined || allowsKey(settings.audienceKeys, e.audience)) return true
      rejected.push({ index: e.index, reason: notListed(e.audience) })
      return false
    })
    const times = new Map<AudienceKey, Array<number>>()
    for (const e of listed) {
      const list = times.get(e.audience)
      if (list === undefined) times.set(e.audience, [e.timestamp])
      else list.push(e.timestamp)
    }
    const answers = times.size === 0
      ? []
      : yield* rpcCall("admitAudiences", () => registry.admitAudiences([...times].map(([key, t]) => ({ key, times: t })), settings.maxAudiences))
    const decision = new Map(answers.map((a) => [a.key, a]))
    const buried = (audience: AudienceKey, timestamp: number) => {
      const removedAt = decision.get(audience)?.removedAt ?? null
      return removedAt !== null && timestamp < removedAt
    }
    const admitted = (audience: AudienceKey) => decision.get(audience)?.admitted === true
    let ignored = 0
    const kept: Array<AcceptedEvent> = []
    for (const e of listed) {
      if (buried(e.audience, e.timestamp)) ignored++
      else if (admitted(e.audience)) kept.push(e)
      else rejected.push({ index: e.index, reason: full(e.audience, settings.maxAudiences) })
    }
    return {
      events: {
        events: decoded.events,
        accepted: kept.length,
        memberships: kept,
        rejected: rejected.sort((a, b) => a.index - b.index)
      },
      ignored
    }
  })
