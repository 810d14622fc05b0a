import type pg from 'pg';
import { z } from 'zod';
import vocabularyJson from './vocabulary.json' with { type: 'json' };

// The permission vocabulary (docs/access-model.md rule 9) is data: vocabulary.json (imported, so
// the build carries it). Every migrate writes it into
// access_capabilities / access_capability_aliases in one transaction, so SQL and the CLI read one mapping.

const capabilitySchema = z.object({
  aliases: z.array(z.string().min(1)).default([]),
  description: z.string().default(''),
  groups: z.array(z.string().min(1)),
});

export const vocabularySchema = z.object({
  /** Groups that hold every capability (Super Administrator). */
  all: z.array(z.string().min(1)),
  capabilities: z.record(z.string().regex(/^[a-z][a-z0-9:.-]*$/, 'lower-case capability name'), capabilitySchema),
});

export type Vocabulary = z.infer<typeof vocabularySchema>;

/** The vocabulary, checked: a malformed edit fails migrate with the key at fault. */
export function readVocabulary(raw: unknown = vocabularyJson): Vocabulary {
  const parsed = vocabularySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`src/access/vocabulary.json: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Rows of access_capabilities: each capability's groups plus the groups that hold everything. */
export function capabilityRows(v: Vocabulary): Array<{ capability: string; group: string; description: string }> {
  const rows = new Map<string, { capability: string; group: string; description: string }>();
  for (const [capability, c] of Object.entries(v.capabilities)) {
    for (const group of [...c.groups, ...v.all]) rows.set(`${capability}\u0000${group.toLowerCase()}`, { capability, group, description: c.description });
  }
  return [...rows.values()];
}

/** Rows of access_capability_aliases; a capability is also its own alias. Two capabilities claiming one alias is an error. */
export function aliasRows(v: Vocabulary): Array<{ alias: string; capability: string }> {
  const seen = new Map<string, string>();
  for (const [capability, c] of Object.entries(v.capabilities)) {
    for (const alias of [capability, ...c.aliases].map((a) => a.toLowerCase())) {
      const other = seen.get(alias);
      if (other && other !== capability) throw new Error(`vocabulary: alias "${alias}" names both ${other} and ${capability}`);
      seen.set(alias, capability);
    }
  }
  return [...seen].map(([alias, capability]) => ({ alias, capability }));
}

/** Replace the stored vocabulary with `v` (inside the caller's transaction, or as one statement each). */
export async function writeVocabulary(client: Pick<pg.ClientBase, 'query'>, v: Vocabulary = readVocabulary()): Promise<void> {
  const caps = capabilityRows(v);
  const aliases = aliasRows(v);
  await client.query('delete from access_capabilities');
  await client.query('delete from access_capability_aliases');
  await client.query(
    `insert into access_capabilities (capability, permission_group_name, description)
     select * from unnest($1::text[], $2::text[], $3::text[])`,
    [caps.map((c) => c.capability), caps.map((c) => c.group), caps.map((c) => c.description)]);
  await client.query(
    'insert into access_capability_aliases (alias, capability) select * from unnest($1::text[], $2::text[])',
    [aliases.map((a) => a.alias), aliases.map((a) => a.capability)]);
}
