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
