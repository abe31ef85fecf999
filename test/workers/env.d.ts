declare module "cloudflare:test" {
  interface ProvidedEnv extends Env {
    readonly MARKETO_ENDPOINT: string
    readonly MARKETO_CLIENT_ID: string
    readonly MARKETO_CLIENT_SECRET: string
    readonly INGEST_TOKEN: string
    readonly INGEST_SECRET: string
    readonly ADMIN_TOKEN: string
  }
}

// Vite's raw import: a file's text (the README's configuration table, for scripts/WorkerVars.ts).
declare module "*.md?raw" {
  const text: string
  export default text
}
