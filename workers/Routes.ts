// Every route of the worker, in one table: what a person reads to know the API.
import * as Admin from "./Admin.js"
import { ingest } from "./Ingest.js"
import type { Route } from "./Router.js"
import { statusPage } from "./Status.js"

export const routes: ReadonlyArray<Route> = [
  // Ingest: Segment's HTTP Tracking API shape, and signed webhooks.
  { method: "POST", pattern: "/v1/batch", handle: ingest({ signature: false }) },
  { method: "POST", pattern: "/v1/identify", handle: ingest({ impliedType: "identify", signature: false }) },
  { method: "POST", pattern: "/v1/track", handle: ingest({ impliedType: "track", signature: false }) },
  { method: "POST", pattern: "/webhook", handle: ingest({ signature: true }) },
  // Admin API (Bearer ADMIN_TOKEN).
  { method: "GET", pattern: "/admin/status", handle: Admin.status },
  { method: "GET", pattern: "/admin/audiences", handle: Admin.audiences },
  { method: "GET", pattern: "/admin/audiences/:key", handle: Admin.audience },
  { method: "DELETE", pattern: "/admin/audiences/:key", handle: Admin.remove },
  { method: "GET", pattern: "/admin/audiences/:key/plan", handle: Admin.plan },
  { method: "PUT", pattern: "/admin/audiences/:key/name", handle: Admin.rename },
  { method: "GET", pattern: "/admin/audiences/:key/reconcile", handle: Admin.reconcileRoute },
  { method: "POST", pattern: "/admin/audiences/:key/reconcile", handle: Admin.reconcileRoute },
  { method: "POST", pattern: "/admin/sync", handle: Admin.sync },
  { method: "POST", pattern: "/admin/quarantine/retry", handle: Admin.retryQuarantined },
  // The status page (Basic auth with ADMIN_TOKEN as password, for browsers) and a liveness probe.
  { method: "GET", pattern: "/", handle: ({ request, platform }) => statusPage(request, platform) },
  { method: "GET", pattern: "/health", handle: () => Promise.resolve(new Response("ok")) }
]
