// The lead fields as last checked against the instance's describe2, on Deno KV, as the Durable
// Object keeps them on Cloudflare: one small record under the instance's prefix.
import { Effect } from "effect"
import type { LeadFieldCheck } from "../../core/marketo/LeadFieldCheck.js"
import type { DenoKvService } from "./DenoKv.js"
import { kvTry } from "./KvAtomic.js"

export const make = ({ kv, prefix }: DenoKvService) => ({
  get: Effect.map(kvTry("getLeadFieldCheck", () => kv.get<LeadFieldCheck>([...prefix, "leadFieldCheck"])), (entry) => entry.value),
  set: (check: LeadFieldCheck) => kvTry("setLeadFieldCheck", () => kv.set([...prefix, "leadFieldCheck"], check)).pipe(Effect.asVoid)
})
