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
