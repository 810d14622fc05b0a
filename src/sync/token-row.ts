import { date, obj, rawOf, str } from './fields.js';

const cidrs = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null);

/** One API token (user- or account-owned) as a row of api_tokens. */
export function tokenRow(
  item: Record<string, unknown> & { id: string },
  owner: { ownerType: 'user' | 'account'; accountId: string | null; userId: string | null },
) {
  const condition = obj(item.condition);
  // The current spec names it request_ip; older definitions used "request.ip". Accept both.
  const requestIp = obj(condition.request_ip ?? condition['request.ip']);
  return {
    id: item.id,
    ownerType: owner.ownerType,
    accountId: owner.accountId,
    userId: owner.userId,
    name: str(item.name),
    status: str(item.status),
    issuedOn: date(item.issued_on),
    modifiedOn: date(item.modified_on),
    lastUsedOn: date(item.last_used_on),
    notBefore: date(item.not_before),
    expiresOn: date(item.expires_on),
    ipAllow: cidrs(requestIp.in),
    ipDeny: cidrs(requestIp.not_in),
    policies: Array.isArray(item.policies) ? item.policies : [],
    raw: rawOf(item),
  };
}
