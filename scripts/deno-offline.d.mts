// Types of scripts/deno-offline.mjs for the TypeScript scripts and tests that start Deno.
export declare const root: string
export declare const offlineFlags: ReadonlyArray<string>
export declare const runDeno: (args: ReadonlyArray<string>, env?: Readonly<Record<string, string>>) => number
