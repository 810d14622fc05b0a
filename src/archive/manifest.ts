import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ARCHIVE_SOURCES } from './rows.js';

export const MANIFEST_FORMAT = 'flarewatch-audit-export/1';
export const MANIFEST_NAME = 'manifest.json';

/** One exported file: one source's entries of one UTC month. */
export const manifestFile = z.strictObject({
  file: z.string().regex(/^[\w.-]+\.ndjson\.gz$/, 'a file name in the manifest\'s directory'),
  month: z.string().regex(/^\d{4}-\d{2}$/),
  source: z.enum(ARCHIVE_SOURCES),
  /** v1 (user_v1, account_v1) or v2 (account_v2): which Cloudflare audit-log API the entries came from. */
  apiVersion: z.enum(['v1', 'v2']),
  rows: z.number().int().min(0),
  /** sha256 of the file as written (gzip bytes). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** sha256 of the uncompressed lines, each followed by "\n": the same rows give the same digest. */
  rowsSha256: z.string().regex(/^[0-9a-f]{64}$/),
  minTime: z.string().nullable(),
  maxTime: z.string().nullable(),
});

export const manifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  flarewatchVersion: z.string(),
  exportedAt: z.string(),
  files: z.array(manifestFile),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof manifestFile>;

export const apiVersionOf = (source: string): 'v1' | 'v2' => (source === 'account_v2' ? 'v2' : 'v1');

/** Read and check a manifest; a clear one-line error naming the file when it is not one. */
export async function readManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`audit import: cannot read manifest ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`audit import: ${path} is not JSON`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`audit import: ${path} is not a flarewatch audit export manifest (${issue.path.join('.') || 'top level'}: ${issue.message})`);
  }
  return parsed.data;
}

/** sha256 of a file's bytes, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
