// A route table matched by method and path. The handlers take the web Request as it came (the
// signature is an HMAC over the raw bytes, and the body is read with a byte cap before parsing)
// and answer a web Response, so a plain table is all the routing the worker needs. effect's
// HttpRouter works inside workerd by subpath, but would add a Request → HttpServerRequest →
// Response round trip and about 50 KiB (15 KiB gzipped) to the bundle for a dozen fixed routes.
import { problem } from "./Http.js"
import type { PlatformService } from "./Platform.js"
import type { SettingsEnv } from "./Settings.js"

export interface RouteContext {
  readonly request: Request
  /** The settings (the platform's `env`). */
  readonly env: SettingsEnv
  readonly platform: PlatformService
  /** The request's path without trailing slashes. */
  readonly path: string
  /** `:name` segments of the pattern, URI-decoded. */
  readonly params: Readonly<Record<string, string>>
}

export interface Route {
  readonly method: "GET" | "POST" | "PUT" | "DELETE"
  /** Literal segments and `:name` parameters, e.g. "/admin/audiences/:key/plan". */
  readonly pattern: string
  readonly handle: (context: RouteContext) => Promise<Response>
}

export interface Matched {
  readonly pattern: string
  readonly response: Promise<Response>
}

const matchPattern = (pattern: string, path: string): Record<string, string> | undefined => {
  const want = pattern.split("/")
  const have = path.split("/")
  if (want.length !== have.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!
    const h = have[i]!
    if (w.startsWith(":")) {
      if (h === "") return undefined
      try {
        params[w.slice(1)] = decodeURIComponent(h)
      } catch {
        return undefined
      }
    } else if (w !== h) return undefined
  }
  return params
}

/** The route for the request: 404 for an unknown path, 405 (with Allow) for a known path and another method. */
export const dispatch = (routes: ReadonlyArray<Route>, request: Request, platform: PlatformService): Matched => {
  const path = new URL(request.url).pathname.replace(/\/+$/, "") || "/"
  const candidates = routes.flatMap((route) => {
    const params = matchPattern(route.pattern, path)
    return params === undefined ? [] : [{ route, params }]
  })
  const method = request.method === "HEAD" ? "GET" : request.method
  const hit = candidates.find((c) => c.route.method === method)
  if (hit !== undefined) return { pattern: hit.route.pattern, response: hit.route.handle({ request, env: platform.env, platform, path, params: hit.params }) }
  if (candidates.length === 0) return { pattern: "(none)", response: Promise.resolve(problem(404, `no route ${path}`)) }
  const allow = [...new Set(candidates.map((c) => c.route.method))].join(", ")
  return {
    pattern: candidates[0]!.route.pattern,
    response: Promise.resolve(problem(405, `${path} accepts ${allow} only`, {}, { allow }))
  }
}
