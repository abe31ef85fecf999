// The worker's entry: routes and the cron tick are wired here.
export { MarketoInstance } from "./MarketoInstance.js"

export default {
  fetch: async () => new Response("Not found", { status: 404 }),
  scheduled: async () => {}
} satisfies ExportedHandler<Env>
