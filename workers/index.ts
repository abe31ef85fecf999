// The worker's entry: ingest and admin routes on fetch, a sync tick on every cron trigger.
// Layers are built per invocation from `env`; nothing is cached at module scope.
import { admin } from "./Admin.js"
import { problem } from "./Http.js"
import { ingest, ingestRoutes } from "./Ingest.js"
import { run } from "./Layers.js"
import type { WorkerEnv } from "./Settings.js"
import { statusPage } from "./Status.js"
import { runSync } from "./SyncRun.js"
import { Effect } from "effect"

export { MarketoInstance } from "./MarketoInstance.js"

const route = async (request: Request, env: WorkerEnv): Promise<Response> => {
  const path = new URL(request.url).pathname.replace(/\/+$/, "") || "/"
  if (ingestRoutes.has(path)) return ingest(request, env, path)
  if (path === "/admin" || path.startsWith("/admin/")) return admin(request, env, path)
  if (path === "/health") return new Response("ok")
  if (path === "/" && request.method === "GET") return statusPage(request, env)
  return problem(404, `no route ${request.method} ${path}`)
}

export default {
  fetch: async (request, env) => {
    const started = Date.now()
    let response: Response
    try {
      response = await route(request, env)
    } catch (error) {
      console.log(JSON.stringify({ level: "ERROR", message: "request failed", error: error instanceof Error ? error.name : "unknown" }))
      response = problem(500, "internal error; nothing was stored from this request")
    }
    console.log(JSON.stringify({ level: "INFO", message: "request", method: request.method, path: new URL(request.url).pathname, status: response.status, ms: Date.now() - started }))
    return response
  },
  scheduled: async (controller, env, ctx) => {
    ctx.waitUntil(run(Effect.ignoreLogged(runSync(env, `cron-${controller.scheduledTime}-${crypto.randomUUID()}`))))
  }
} satisfies ExportedHandler<WorkerEnv>
