declare module "cloudflare:test" {
  interface ProvidedEnv extends Env {
    readonly MARKETO_ENDPOINT: string
  }
}
