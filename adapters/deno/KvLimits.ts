// Deno KV's limits, as enforced by the bundled deno 2.9.6 on a local database (checked by
// test/deno/KvLimits.test.ts, which fails if an upgrade lowers one). Deno 1.36 and earlier
// allowed only 10 mutations and 10 checks per atomic operation; Deno Deploy's hosted KV has the
// same limits except a larger mutation size. The adapters keep within these figures.
export const KvLimits = {
  /** Bytes of one serialized value (a Uint8Array counts its length). */
  valueBytes: 65_536,
  /** Bytes of one key, as encoded, when written. */
  keyBytes: 2_048,
  /** Mutations (set, delete, sum...) in one atomic operation. */
  mutations: 1_000,
  /** Versionstamp checks in one atomic operation. */
  checks: 100,
  /** Bytes of one atomic operation: its checked keys, and its written keys (twice) and values. */
  mutationBytes: 819_200,
  /** Keys written by one atomic operation. */
  keyBytesPerOperation: 81_920,
  /** Keys read by one getMany. */
  getMany: 10
} as const
