// The token permission that grants each endpoint we read (from x-api-token-group in the
// Cloudflare OpenAPI definitions), so a 403 can tell the operator what to add.
const REQUIRED: Array<[RegExp, string]> = [
  [/^\/user$/, 'User Details Read'],
  [/^\/user\/tokens\/permission_groups/, 'API Tokens Read'],
  [/^\/user\/tokens/, 'API Tokens Read'],
  [/^\/user\/(invites|organizations)/, 'Memberships Read'],
  [/^\/user\/(subscriptions|billing)/, 'Billing Read'],
  [/^\/user\/firewall\/access_rules/, 'Account Firewall Access Rules Read'],
  [/^\/user\/audit_logs/, 'Account Settings Read'],
  [/^\/accounts\/[^/]+\/tokens/, 'Account API Tokens Read'],
  [/^\/accounts\/[^/]+\/iam\//, 'Account Settings Read'],
  [/^\/zones/, 'Zone Read'],
  [/^\/organizations/, 'User Details Read'],
  [/^\/accounts\/[^/]+\/(members|roles)/, 'Account Settings Read'],
  [/^\/accounts\/[^/]+\/subscriptions/, 'Billing Read'],
  [/^\/accounts\/[^/]+\/(logs\/audit|audit_logs)/, 'Account Settings Read'],
  [/^\/accounts/, 'Account Settings Read'],
];

export function requiredPermission(path: string): string | undefined {
  return REQUIRED.find(([re]) => re.test(path))?.[1];
}
