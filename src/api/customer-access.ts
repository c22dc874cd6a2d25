import type { ApiContext } from './api-context.ts';

/**
 * Whether a customer may use self-care now: the account is active, or suspended by the customer's
 * own restriction of processing (so they can lift it). Closed, or suspended by an operator: no.
 */
export async function customerMayAct(ctx: ApiContext, s: { accountId: number; customerId: number }): Promise<boolean> {
  const status = (await ctx.balances.get(s.accountId))?.status ?? (await ctx.accounts.get(s.accountId)).status;
  if (status === 'active') return true;
  if (status !== 'suspended') return false;
  return (await ctx.restriction.get(s.customerId)).suspendedAccountIds.map(Number).includes(s.accountId);
}
