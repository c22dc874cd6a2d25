import { principalOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import type { FastifyRequest } from 'fastify';

/** Writes one audit row for a request touching a person's data. */
export async function audit(
  ctx: ApiContext,
  req: FastifyRequest,
  action: string,
  subject: { customerId?: number | null; accountId?: number | null },
  detail: Record<string, unknown> = {},
): Promise<void> {
  await ctx.audit.write({ actor: principalOf(req).actor, action, ...subject, detail });
}

/** The durable balance and currency of an account, cached briefly (the live figure is always fresh). */
const durableCache = new WeakMap<ApiContext, Map<number, { balance: number; currency: string; until: number }>>();

export async function durableOf(ctx: ApiContext, accountId: number): Promise<{ balance: number; currency: string } | undefined> {
  let cache = durableCache.get(ctx);
  if (!cache) {
    cache = new Map();
    durableCache.set(ctx, cache);
  }
  const now = Date.now();
  const hit = cache.get(accountId);
  if (hit && hit.until > now) return hit;
  const { rows } = await ctx.pool.query<{ balance: number; currency: string }>('select balance, currency from accounts where id = $1', [accountId]);
  const row = rows[0];
  if (!row) return undefined;
  if (ctx.settings.durableBalanceCacheMs > 0) {
    if (cache.size > 100_000) cache.clear();
    cache.set(accountId, { ...row, until: now + ctx.settings.durableBalanceCacheMs });
  }
  return row;
}
