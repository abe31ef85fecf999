// The Deno server's entry: the same routes as the Cloudflare worker (workers/App.ts) with
// Deno.serve, and the sync tick every minute with Deno.cron, over one Deno KV database.
//   DENO_KV_PATH  the database file (unset: Deno's default; on Deno Deploy, the project's own)
//   HOST, PORT    where to listen (default 0.0.0.0:8000; Deno Deploy chooses its own)
// Every setting of the README's table is read from the environment once, at start.
import { settingNames } from "../scripts/WorkerVars.js"
import { handleRequest, scheduledTick } from "../workers/App.js"
import { denoPlatform } from "./DenoPlatform.js"

const setting = (name: string) => {
  const value = Deno.env.get(name)
  return value === undefined || value.trim() === "" ? undefined : value
}

const env = Object.fromEntries(settingNames.flatMap((name) => {
  const value = setting(name)
  return value === undefined ? [] : [[name, value] as const]
}))

const kv = await Deno.openKv(setting("DENO_KV_PATH"))
const platform = denoPlatform(kv, env)

// Deno.cron must be declared at the top level (Deno Deploy reads it from there). A tick that
// overruns the minute is not run twice: the next one finds the lease held and skips.
Deno.cron("marketo-static-lists sync", "* * * * *", () => scheduledTick(platform, `cron-${Date.now()}-${crypto.randomUUID()}`))

Deno.serve(
  {
    hostname: setting("HOST") ?? "0.0.0.0",
    port: Number(setting("PORT") ?? 8000),
    onListen: ({ hostname, port }) => console.log(JSON.stringify({ message: "listening", url: `http://${hostname}:${port}` }))
  },
  (request) => handleRequest(platform, request)
)
