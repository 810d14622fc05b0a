-- id: custom.user-token-all-accounts
-- title: User-owned token that can act on every account
-- severity: high
-- rationale: A user token scoped to "all accounts" follows its owner into every account they join later.
-- remediation: Re-issue the token scoped to the one account it needs (or as an account-owned token).
--
-- An example custom rule (copy it into the rules folder, FLAREWATCH_RULES_DIR, default ./rules,
-- to enable it). A rule is one SELECT (or WITH) over the flarewatch tables and views. It must
-- return resource_key and resource_type; resource_name, account_id and severity are optional;
-- every other column becomes a fact of the finding.
select
  'token:' || token_id as resource_key,
  'token' as resource_type,
  token_name as resource_name,
  account_id,
  string_agg(distinct permission_group_name, ', ' order by permission_group_name) as permission_groups
from token_grants
where owner_type = 'user'
  and effect = 'allow'
  and resource_key = 'com.cloudflare.api.account.*'
group by token_id, token_name, account_id;
