/** The access-path objects exactly as Cloudflare serves them (openapi-iam.json, field by field). */

export interface ScopeObject { key: string }
/** iam_resource_group: `scope.key` is the account, `scope.objects[].key` narrows it (a zone, or '*'). */
export interface ResourceGroup { id: string; name: string; meta: Record<string, string>; scope: { key: string; objects: ScopeObject[] } }
export interface PolicyPermissionGroup { id: string; name: string; meta: Record<string, string> }
/** A member's or a user group's policy: access × permission groups × resource groups. */
export interface IamPolicy { id: string; access: 'allow' | 'deny'; permission_groups: PolicyPermissionGroup[]; resource_groups: ResourceGroup[] }
/** iam_user_group: no member list, no count (members come from …/user_groups/{id}/members). */
export interface UserGroup { id: string; name: string; created_on: string; modified_on: string; policies: IamPolicy[] }
/** organizations-api_Organization. */
export interface Organization { id: string; name: string; create_time: string; meta: Record<string, unknown> }
/** organizations-api_Member: implicit Super Administrator on the organization's accounts. */
export interface OrgMember {
  id: string; create_time: string; update_time: string; status: 'active' | 'pending' | 'rejected' | 'canceled';
  meta: Record<string, unknown>; user: { id: string; email: string; name: string; two_factor_authentication_enabled: boolean };
}

/** How a test or the seed states a policy: permission groups by name, where it applies by resource group or zone. */
export interface PolicySpec {
  access?: 'allow' | 'deny';
  permissionGroups: string[];
  /** Resource group ids; default: the account-wide resource group (unless `zones` is given). */
  resourceGroups?: string[];
  /** Zone names or ids: a resource group scoped to them is created. */
  zones?: string[];
}

export interface OrgMemberSpec { email: string; name?: string; twoFactor?: boolean; status?: OrgMember['status']; userId?: string }
