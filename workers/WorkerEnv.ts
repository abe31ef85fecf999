// The Cloudflare worker's env: vars from wrangler.toml, secrets set with `wrangler secret put`, and
// the bindings (KV, the Durable Object). Only the Cloudflare side names it; the app reads the
// settings as plain strings (workers/Settings.ts's SettingsEnv).
import type { SettingsEnv } from "./Settings.js"

export type WorkerEnv = Env & SettingsEnv
