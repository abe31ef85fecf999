// The Cloudflare worker's entry: ingest and admin routes on fetch, a sync tick on every cron
// trigger, both through the shared app (workers/App.ts) with the Cloudflare platform. The platform
// is built per invocation from `env`; nothing is cached at module scope.
import { handleRequest, scheduledTick } from "./App.js"
import { cloudflarePlatform } from "./CloudflarePlatform.js"
import type { WorkerEnv } from "./WorkerEnv.js"

export { MarketoInstance } from "./MarketoInstance.js"

export default {
  fetch: (request, env) => handleRequest(cloudflarePlatform(env), request),
  // The tick runs after the handler returns (waitUntil).
  scheduled: async (controller, env, ctx) => {
    const holder = `cron-${controller.scheduledTime}-${crypto.randomUUID()}`
    ctx.waitUntil(scheduledTick(cloudflarePlatform(env), holder))
  }
} satisfies ExportedHandler<WorkerEnv>
