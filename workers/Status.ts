// Serves the status page (GET /): the admin credentials, the audiences with their next plans, the
// instance's budget and any configuration problem.
import { Effect, Either, Option } from "effect"
import { rpcCall } from "../adapters/cloudflare/RpcCall.js"
import { listAudiences } from "../core/5-tick/AudienceStatus.js"
import { planSummary } from "../core/5-tick/PlanSummary.js"
import { reconcileCalls } from "../core/5-tick/Reconcile.js"
import { sharedTokens } from "./Admin.js"
import { adminAuthorized } from "./Auth.js"
import { formToken as makeFormToken } from "./CrossSite.js"
import { problem } from "./Http.js"
import { latencyView } from "./Latency.js"
import { leadFieldsView, plannedLeadFields } from "./LeadFieldCheck.js"
import { instanceFor, run, stateLayer } from "./Layers.js"
import type { PlatformService } from "./Platform.js"
import { configurationProblems, instanceUrl, marketoSettings, tokensShared } from "./Settings.js"
import { pagePolicy } from "./SecurityHeaders.js"
import { pageStyle, renderStatusPage, type StatusPageData } from "./StatusPage.js"
import { tickHealth } from "./TickStatus.js"

const html = async (body: string) =>
  new Response(body, {
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-security-policy": await pagePolicy(pageStyle) }
  })

export const statusPage = async (request: Request, platform: PlatformService): Promise<Response> => {
  const env = platform.env
  if (!(await adminAuthorized(request, env.ADMIN_TOKEN))) {
    return problem(401, "sign in with the admin token as password", {}, { "www-authenticate": "Basic realm=\"marketo-static-lists\", charset=\"UTF-8\"" })
  }
  if (tokensShared(env)) return sharedTokens(env)
  const settings = marketoSettings(env)
  const configuration = configurationProblems(env)
  const link = Either.getOrUndefined(instanceUrl(env))
  const now = Date.now()
  const formToken = await makeFormToken(env.ADMIN_TOKEN!, now)
  if (Either.isLeft(settings)) return html(renderStatusPage({ audiences: [], configuration, now, formToken }))
  const { endpoint, folder, callsPer20s } = settings.right
  const budget = { callsPerWindow: callsPer20s, windowMillis: 20_000 }
  const leadFields = await run(plannedLeadFields(platform, settings.right))
  const audiences = await run(Effect.either(Effect.gen(function*() {
    const views = (yield* listAudiences).map((view) => ({ ...view, reconcileCalls: reconcileCalls(view.synced) }))
    return yield* Effect.forEach(views, (view) =>
      view.pending.add + view.pending.remove + view.pendingImports.length === 0 && view.listId !== undefined
        ? Effect.succeed(view)
        : Effect.map(planSummary(view.key, { folderName: folder, budget, ...(leadFields === undefined ? {} : { leadFields }) }), (plan) =>
          Option.match(plan, {
            onNone: () => view,
            onSome: (p) => ({ ...view, nextPlan: { calls: p.calls, minDurationSeconds: p.minDurationSeconds, steps: p.steps } })
          })))
  }).pipe(Effect.provide(stateLayer(platform, endpoint)))))
  const status = await run(Effect.either(rpcCall("status", () => instanceFor(platform, endpoint).status())))
  const removed = await run(Effect.either(rpcCall("tombstones", () => instanceFor(platform, endpoint).tombstones())))
  const latency = await latencyView(platform, settings.right, Either.getOrUndefined(status))
  const health = await tickHealth(platform, endpoint, now)
  // Lead fields the instance refuses are configuration problems, named by field.
  const fieldProblems = (await leadFieldsView(platform, settings.right)).problems
  const data: StatusPageData = {
    audiences: Either.getOrElse(audiences, () => []),
    configuration: [...configuration, ...fieldProblems, ...(Either.isLeft(audiences) ? ["state is not readable yet; reload in a minute"] : [])],
    folder,
    now,
    formToken,
    health,
    ...(Either.isRight(status) ? { budget: status.right } : {}),
    ...(Either.isRight(removed) ? { removed: removed.right } : {}),
    ...(latency === undefined ? {} : { latency }),
    ...(link === undefined ? {} : { instanceUrl: link })
  }
  return html(renderStatusPage(data))
}
