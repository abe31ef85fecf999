// Where each piece of state lives in the StateStore. Audience keys are percent-encoded so that a
// key containing "/" can never reach another audience's records.
import type { AudienceKey } from "./Ids.js"

const enc = encodeURIComponent

export const StateKeys = {
  inboxPrefix: "inbox/",
  /** Sorted by arrival: the receive time first, then a random suffix against collisions. */
  inbox: (receivedAt: number, id: string) => `inbox/${String(receivedAt).padStart(13, "0")}-${id}`,
  audiencePrefix: "aud/",
  audience: (key: AudienceKey) => `aud/${enc(key)}`,
  shard: (key: AudienceKey, shard: number) => `aud/${enc(key)}/shard/${String(shard).padStart(4, "0")}`,
  journal: (key: AudienceKey) => `aud/${enc(key)}/journal`,
  withoutEmail: (key: AudienceKey) => `aud/${enc(key)}/noemail`,
  /** The configured folder's id, cached by name. */
  folder: "instance/folder",
  /** Is this key an audience record (not one of its shards or journals)? */
  isAudienceRecord: (key: string) => /^aud\/[^/]+$/.test(key)
} as const
