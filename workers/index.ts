// The worker's entry: ingest and admin routes on fetch, a sync tick on every cron trigger.
// Layers are built per invocation from `env`; nothing is cached at module scope.
import { Cause, Effect } from "effect"
import { factsOf, problem } from "./Http.js"
import { run } from "./Layers.js"
import { dispatch } from "./Router.js"
import { routes } from "./Routes.js"
import { withSecurityHeaders } from "./SecurityHeaders.js"
import type { WorkerEnv } from "./Settings.js"
import { runSync } from "./SyncRun.js"

export { MarketoInstance } from "./MarketoInstance.js"

/** One JSON line per request: route, status, time, and what the answer says (never a secret). */
const logRequest = (request: Request, pattern: string, response: Response, millis: number) => {
  const line = Effect.annotateLogs({
    method: request.method,
    route: pattern,
    status: response.status,
    ms: millis,
    ...factsOf(response)
  })
  return run(response.status >= 500 ? line(Effect.logError("request")) : line(Effect.logInfo("request")))
}

export default {
  fetch: async (request, env) => {
    const started = Date.now()
    let pattern = "(none)"
    let response: Response
    try {
      const matched = dispatch(routes, request, env)
      pattern = matched.pattern
      response = await matched.response
    } catch (error) {
      await run(Effect.logError("request failed", Cause.die(error)).pipe(Effect.annotateLogs({ method: request.method, route: pattern })))
      response = problem(500, "internal error; nothing was stored from this request")
    }
    await logRequest(request, pattern, response, Date.now() - started)
    return withSecurityHeaders(response)
  },
  // The tick runs after the handler returns (waitUntil); runSync logs one line with its outcome,
  // and a misconfigured worker logs the problems and returns instead of failing every minute.
  scheduled: async (controller, env, ctx) => {
    const holder = `cron-${controller.scheduledTime}-${crypto.randomUUID()}`
    ctx.waitUntil(run(runSync(env, holder).pipe(
      Effect.catchAllCause((cause) => Effect.logError("sync failed; the next tick retries", cause))
    )))
  }
} satisfies ExportedHandler<WorkerEnv>
