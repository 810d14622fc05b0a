import type { ApiAccess } from '../cloudflare/client.js';
import { createApiClient, type RequestTally } from '../cloudflare/client.js';
import type { Context } from '../context.js';
import type { CredentialAccess } from '../credentials/types.js';
import type { PageWalk } from '../sync/audit-pages.js';

/** The request budget of one verification run, shared by every stream it checks. */
export class Budget {
  used = 0;
  readonly controller = new AbortController();
  constructor(readonly max: number) {}
  get exhausted(): boolean {
    return this.used >= this.max;
  }
}

export class BudgetExhausted extends Error {
  override name = 'BudgetExhausted';
  constructor(max: number) {
    super(`the request budget of ${max} is used up`);
  }
}

/** Every request of the walk counts against the budget; the one past it is never sent (the walk is aborted instead). */
function budgeted(api: ApiAccess, budget: Budget): ApiAccess {
  const inner = api.fetch ?? fetch;
  return {
    ...api,
    fetch: async (input, init) => {
      if (budget.exhausted) {
        const err = new BudgetExhausted(budget.max);
        budget.controller.abort(err);
        throw err;
      }
      budget.used += 1;
      return inner(input, init);
    },
  };
}

/** What the audit page sources need, for a walk that is not a sync (no checkpoint, no run row). */
export function pageWalk(ctx: Context, stream: string, credential: CredentialAccess, budget: Budget, tally: RequestTally): PageWalk {
  const api = budgeted(credential.api, budget);
  return {
    cf: createApiClient(api, tally), api, config: ctx.config, stream, credential,
    log: ctx.log.child({ stream, stage: 'verify' }), now: ctx.now,
    signal: ctx.signal ? AbortSignal.any([ctx.signal, budget.controller.signal]) : budget.controller.signal,
  };
}

/** Whether an error means "the budget ran out" (however the SDK wrapped the abort). */
export function isBudgetStop(err: unknown, budget: Budget): boolean {
  return budget.controller.signal.aborted && (err instanceof BudgetExhausted || (err as Error)?.name === 'APIUserAbortError' || (err as Error)?.name === 'AbortError' || String((err as Error)?.message).includes('abort'));
}
