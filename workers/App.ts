// The app as both entries run it: a request answered through the route table with the security
// headers and one log line, and a sync tick that logs its outcome instead of failing. The Cloudflare
// worker (workers/index.ts) and the Deno server (deno/main.ts) differ only in the Platform they pass.
import { Cause, Effect } from "effect"
import { factsOf, problem } from "./Http.js"
import { run } from "./Layers.js"
import type { PlatformService } from "./Platform.js"
import { dispatch } from "./Router.js"
import { routes } from "./Routes.js"
import { withSecurityHeaders } from "./SecurityHeaders.js"
import { runSync } from "./SyncRun.js"

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

export const handleRequest = async (platform: PlatformService, request: Request): Promise<Response> => {
  const started = Date.now()
  let pattern = "(none)"
  let response: Response
  try {
    const matched = dispatch(routes, request, platform)
    pattern = matched.pattern
    response = await matched.response
  } catch (error) {
    await run(Effect.logError("request failed", Cause.die(error)).pipe(Effect.annotateLogs({ method: request.method, route: pattern })))
    response = problem(500, "internal error; nothing was stored from this request")
  }
  await logRequest(request, pattern, response, Date.now() - started)
  return withSecurityHeaders(response)
}

/** The scheduled tick: runSync logs one line with its outcome; a misconfigured app logs the problems and returns. */
export const scheduledTick = (platform: PlatformService, holder: string): Promise<void> =>
  run(runSync(platform, holder).pipe(
    Effect.asVoid,
    Effect.catchAllCause((cause) => Effect.logError("sync failed; the next tick retries", cause))
  ))
