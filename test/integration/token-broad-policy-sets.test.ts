import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { assessPolicies, assessmentFacts, severityOf } from '../../src/rules/policy-model.js';
import { tokenHit } from '../../src/rules/sql.js';
import { tokenBroadPolicy } from '../../src/rules/token-broad-policy.js';
import type { RuleHit } from '../../src/rules/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { evaluate } from '../helpers/rules.js';

// token-broad-policy judges each distinct policy set once and puts every token's policy ids back
// in SQL. Over a varied world (policy sets shared by many tokens with different ids, ids missing or
// not strings, groups named only by id, nested resources, deny and member-style `access`, several
// policies per token, junk), its hits must be exactly those of the model applied token by token.

const ACCT = 'com.cloudflare.api.account';
const ZONES = `${ACCT}.zone.*`;
const GROUPS = [
  { id: 'g-dns-write', name: 'DNS Write' }, { id: 'g-dns-read', name: 'DNS Read' }, { id: 'g-tokens', name: 'API Tokens Write' },
  { id: 'g-billing', name: 'Billing Write' }, { id: 'g-purge', name: 'Cache Purge' }, { id: 'g-byid-only' }, { id: 'g-unknown' },
  { id: 'g-edit', name: ' Zaraz Edit ' },
];
const RESOURCES: unknown[] = [
  { [ZONES]: '*' }, { [`${ACCT}.*`]: '*' }, { [`${ACCT}.a1`]: '*' }, { [`${ACCT}.a1`]: { [ZONES]: '*' } },
  { [`${ACCT}.zone.z1`]: '*', [ZONES]: '*' }, {}, null, ['not', 'an', 'object'],
];

/** A small deterministic generator, so a failure can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

function policyOf(pick: (n: number) => number, id: unknown): unknown {
  if (pick(25) === 0) return pick(2) ? 'junk' : null;
  const groups = [GROUPS[pick(GROUPS.length)]!, ...(pick(3) === 0 ? [GROUPS[pick(GROUPS.length)]!] : [])];
  const effect = ['allow', 'deny', 'ALLOW'][pick(3)];
  return {
    ...(id === undefined ? {} : { id }),
    ...(pick(6) === 0 ? { access: effect } : { effect }),
    permission_groups: groups.map((g) => (pick(4) === 0 ? { id: g.id } : g)),
    resources: RESOURCES[pick(RESOURCES.length)],
  };
}

/** 600 tokens from 40 policy-set templates: each token its own policy ids (sometimes none, sometimes not a string). */
function tokens(): Array<{ id: string; owner: string; policies: unknown }> {
  const pick = prng(20261207);
  const templates = Array.from({ length: 40 }, () => Array.from({ length: 1 + pick(3) }, () => pick(1000)));
  return Array.from({ length: 600 }, (_, i) => {
    const template = templates[pick(templates.length)]!;
    const policies = template.map((seed, k) => {
      const id = [`p-${i}-${k}`, undefined, 42, `p-${i}-${k}`][pick(4)];
      return policyOf(prng(seed), id);
    });
    return { id: `t${String(i).padStart(4, '0')}`, owner: i % 3 ? 'user' : 'account', policies: i % 97 === 0 ? { not: 'a list' } : policies };
  });
}

let db: TestDatabase;
const world = tokens();

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(`insert into permission_groups (source, id, name, raw) values ('user', 'g-byid-only', 'Account Settings Write', '{}'), ('user', 'g-dns-write', 'DNS Write', '{}')`);
  for (const t of world) {
    await db.pool.query(
      `insert into api_tokens (id, owner_type, account_id, name, status, policies, raw) values ($1, $2, 'a1', $1, 'active', $3::jsonb, '{}')`,
      [t.id, t.owner, JSON.stringify(t.policies)]);
  }
});

afterAll(async () => {
  await db?.drop();
});

const NAMES = new Map([['g-byid-only', 'Account Settings Write'], ['g-dns-write', 'DNS Write']]);

/** The model applied token by token, to the policies as stored (jsonb orders an object's keys: the rule reads them so). */
async function tokenByToken(model: { sensitiveGroups?: string[]; writeGroups?: string[] } = {}): Promise<RuleHit[]> {
  const { rows } = await db.pool.query<{ id: string; owner_type: string; policies: unknown }>('select id, owner_type, policies from api_tokens order by id');
  return rows.flatMap((t) => {
    const a = assessPolicies(t.policies, { ...model, groupNames: NAMES });
    const severity = severityOf(a);
    return severity ? [tokenHit({ id: t.id, name: t.id, owner_type: t.owner_type, account_id: 'a1' }, assessmentFacts(a), severity)] : [];
  });
}

describe('token-broad-policy, judged once per policy set', () => {
  const config = () => loadConfig({ DATABASE_URL: db.url, FLAREWATCH_RULES_DIR: '/nonexistent' });

  it('finds exactly what the model finds token by token, with the same facts and severities', async () => {
    const hits = await evaluate(tokenBroadPolicy, { db: db.db, config: config() });
    const expected = await tokenByToken();
    // The world is varied enough to mean something: both verdicts, grants without a policy id, tokens sharing a set.
    expect(expected.filter((h) => h.severity === 'critical').length).toBeGreaterThan(20);
    expect(expected.filter((h) => h.severity === 'high').length).toBeGreaterThan(20);
    expect(expected.some((h) => JSON.stringify(h.facts).includes('"policy_id":null'))).toBe(true);
    expect(hits).toEqual(expected);
  });

  it('judges with the configured groups as the token-by-token model does', async () => {
    const model = { sensitiveGroups: ['DNS Write'], writeGroups: [] };
    const hits = await evaluate(tokenBroadPolicy, { db: db.db, config: config() }, model);
    const expected = await tokenByToken(model);
    expect(expected.length).toBeGreaterThan(20);
    expect(hits).toEqual(expected);
  });
});
