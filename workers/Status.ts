// Serves the status page (GET /): the admin credentials, the audiences with their next plans, the
// instance's budget and any configuration problem.
import { Effect, Either, Option } from "effect"
import { rpcCall } from "../adapters/cloudflare/RpcCall.js"
import { dryRun, listAudiences } from "../core/5-tick/AudienceStatus.js"
import { reconcileCalls } from "../core/5-tick/Reconcile.js"
import { adminAuthorized } from "./Auth.js"
import { problem } from "./Http.js"
import { latencyView } from "./Latency.js"
import { leadFieldsView } from "./LeadFieldCheck.js"
import { instanceFor, run, stateLayer } from "./Layers.js"
import { credentialProblems, marketoSettings, type WorkerEnv } from "./Settings.js"
import { renderStatusPage, type StatusPageData } from "./StatusPage.js"

const html = (body: string, status = 200) =>
  new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } })

export const statusPage = async (request: Request, env: WorkerEnv): Promise<Response> => {
  if (!(await adminAuthorized(request, env.ADMIN_TOKEN))) {
    return problem(401, "sign in with the admin token as password", {}, { "www-authenticate": "Basic realm=\"marketo-static-lists\", charset=\"UTF-8\"" })
  }
  const settings = marketoSettings(env)
  const configuration = [...Either.match(settings, { onLeft: (p) => p, onRight: () => [] }), ...credentialProblems(env)]
  const now = Date.now()
  if (Either.isLeft(settings)) return html(renderStatusPage({ audiences: [], configuration, now }))
  const { endpoint, folder, callsPer20s } = settings.right
  const budget = { callsPerWindow: callsPer20s, windowMillis: 20_000 }
  const audiences = await run(Effect.either(Effect.gen(function*() {
    const views = (yield* listAudiences).map((view) => ({ ...view, reconcileCalls: reconcileCalls(view.synced) }))
    return yield* Effect.forEach(views, (view) =>
      view.pending.add + view.pending.remove + view.pendingImports.length === 0 && view.listId !== undefined
        ? Effect.succeed(view)
        : Effect.map(dryRun(view.key, { folderName: folder, budget }), (plan) =>
          Option.match(plan, {
            onNone: () => view,
            onSome: (p) => ({ ...view, nextPlan: { calls: p.calls, minDurationSeconds: p.minDurationSeconds, steps: summarize(p.plan.steps) } })
          })))
  }).pipe(Effect.provide(stateLayer(env, endpoint)))))
  const status = await run(Effect.either(rpcCall("status", () => instanceFor(env, endpoint).status())))
  const latency = await latencyView(env, settings.right, Either.getOrUndefined(status))
  // Lead fields the instance refuses are configuration problems, named by field.
  const fieldProblems = (await leadFieldsView(env, settings.right)).problems
  const data: StatusPageData = {
    audiences: Either.getOrElse(audiences, () => []),
    configuration: [...configuration, ...fieldProblems, ...(Either.isLeft(audiences) ? ["state is not readable yet; reload in a minute"] : [])],
    folder,
    now,
    ...(Either.isRight(status) ? { budget: status.right } : {}),
    ...(latency === undefined ? {} : { latency }),
    ...(env.MARKETO_INSTANCE_URL === undefined ? {} : { instanceUrl: env.MARKETO_INSTANCE_URL })
  }
  return html(renderStatusPage(data))
}

/** "UpsertLeads ×3 → AddToList ×3": the plan's steps, run-length encoded for a person. */
const summarize = (steps: ReadonlyArray<{ readonly _tag: string }>): ReadonlyArray<string> => {
  const out: Array<[string, number]> = []
  for (const step of steps) {
    const last = out[out.length - 1]
    if (last !== undefined && last[0] === step._tag) last[1]++
    else out.push([step._tag, 1])
  }
  return out.map(([tag, n]) => (n === 1 ? tag : `${tag} ×${n}`))
}

