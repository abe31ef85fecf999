// The Deno KV database behind the Deno adapters, as a service: the handle and the key prefix of
// one Marketo instance. Every record of an instance lives under its prefix, as every record of it
// lives in one Durable Object on Cloudflare, so one database can serve several instances.
import { Context, Data, Effect, Layer } from "effect"

export interface DenoKvService {
  readonly kv: Deno.Kv
  /** The first key parts of every record of this instance. */
  readonly prefix: Deno.KvKey
}

export class DenoKv extends Context.Tag("marketo-lists/DenoKv")<DenoKv, DenoKvService>() {}

export class KvOpenFailure extends Data.TaggedError("KvOpenFailure")<{
  readonly path: string
  readonly message: string
}> {}

/**
 * Open the database at `path` for the layer's lifetime and close it after (no path: Deno's
 * default database, which on Deno Deploy is the project's own). `instance` names the prefix.
 */
export const layer = (path: string | undefined, instance: string): Layer.Layer<DenoKv, KvOpenFailure> =>
  Layer.scoped(
    DenoKv,
    Effect.acquireRelease(
      Effect.tryPromise({
        try: () => Deno.openKv(path),
        catch: (cause) => new KvOpenFailure({ path: path ?? "(default)", message: cause instanceof Error ? cause.message : String(cause) })
      }),
      (kv) => Effect.sync(() => kv.close())
    ).pipe(Effect.map((kv): DenoKvService => ({ kv, prefix: [instance] })))
  )
