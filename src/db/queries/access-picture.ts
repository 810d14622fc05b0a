import { sql } from 'drizzle-orm';
import type { Tx } from '../client.js';

/**
 * The listings an account's access picture is built from. Without each, a path of access is
 * missing from every answer: members (their roles and own policies), account-tokens (token
 * grants), user-groups and user-group-members (access through groups), resource-groups (what a
 * policy's scope covers), iam-permission-groups (what a policy's permission group is), zones
 * (which zone a resource key names). An account that an organization owns also needs a complete
 * organizations listing (its members hold implicit Super Administrator there).
 */
export const ACCOUNT_LISTINGS = ['members', 'account-tokens', 'user-groups', 'user-group-members', 'resource-groups', 'iam-permission-groups', 'zones'] as const;

export interface MissingListing { listing: string; state: string; reason: string | null; credential: string | null; viewOf: string | null }
export interface AccessPicture { accountId: string; name: string | null; complete: boolean; missing: MissingListing[] }

/** Every live account's access picture: complete, or which listings are missing and why. */
export async function accessPictures(db: Tx): Promise<AccessPicture[]> {
  const res = await db.execute(sql`
    with need as (
      select a.id as account_id, a.name, l.listing
        from accounts a cross join unnest(${sql.raw(`array[${ACCOUNT_LISTINGS.map((l) => `'${l}'`).join(', ')}]`)}::text[]) as l(listing)
       where a.deleted_at is null
    )
    select n.account_id, n.name, n.listing, coalesce(x.state, 'never read') as state, x.reason, x.credential, x.view_of
      from need n left join access_listings x on x.scope = 'account:' || n.account_id and x.listing = n.listing
     where x.state is distinct from 'complete'
    union all
    select a.id, a.name, 'organizations',
           coalesce((select x.state from access_listings x where x.listing = 'organizations' order by x.checked_at desc limit 1), 'never read'),
           (select x.reason from access_listings x where x.listing = 'organizations' order by x.checked_at desc limit 1),
           (select x.credential from access_listings x where x.listing = 'organizations' order by x.checked_at desc limit 1), null
      from accounts a
     where a.deleted_at is null and a.raw -> 'managed_by' ->> 'parent_org_id' is not null
       and not exists (select 1 from access_listings x where x.listing = 'organizations' and x.state = 'complete')
    order by 1, 3`);
  const missing = new Map<string, MissingListing[]>();
  for (const r of res.rows as Array<Record<string, string | null>>) {
    const list = missing.get(r.account_id!) ?? [];
    list.push({ listing: r.listing!, state: r.state!, reason: r.reason ?? null, credential: r.credential ?? null, viewOf: r.view_of ?? null });
    missing.set(r.account_id!, list);
  }
  const accounts = await db.execute(sql`select id, name from accounts where deleted_at is null order by name, id`);
  return (accounts.rows as Array<{ id: string; name: string | null }>).map((a) => {
    const order = (l: string) => { const i = (ACCOUNT_LISTINGS as readonly string[]).indexOf(l); return i < 0 ? ACCOUNT_LISTINGS.length : i; };
    const m = (missing.get(a.id) ?? []).sort((x, y) => order(x.listing) - order(y.listing));
    return { accountId: a.id, name: a.name, complete: m.length === 0, missing: m };
  });
}

/** "user-groups forbidden (HTTP 403: …, credential default)", "zones never read", "account-tokens partial (provisioner:…'s view)". */
export function describeMissing(m: MissingListing): string {
  const why = m.state === 'partial' ? `${m.viewOf ?? 'a partial'} view` : m.reason;
  const who = m.credential && m.state !== 'never read' ? `credential ${m.credential}` : '';
  const detail = [why, who].filter(Boolean).join(', ');
  return `${m.listing} ${m.state}${detail ? ` (${detail})` : ''}`;
}

/** One line per account: "account Acme: access picture complete" or "… incomplete — user-groups forbidden (…), zones never read". */
export function describePicture(p: AccessPicture): string {
  const name = p.name ?? p.accountId;
  return p.complete ? `account ${name}: access picture complete` : `account ${name}: access picture incomplete — ${p.missing.map(describeMissing).join('; ')}`;
}
