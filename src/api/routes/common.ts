import { principalOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import { PURPOSES } from '../../privacy/restriction.ts';
import type { Purpose } from '../../privacy/restriction.ts';

/** Writes one audit row for a request touching a person's data (with the purpose the operator stated, if any). */
export async function audit(
  ctx: ApiContext,
  req: FastifyRequest,
  action: string,
  subject: { customerId?: number | null; accountId?: number | null },
  detail: Record<string, unknown> = {},
): Promise<void> {
  const purpose = statedPurpose(req);
  await ctx.audit.write({ actor: principalOf(req).actor, action, ...subject, detail: purpose ? { ...detail, purpose } : detail });
}

/** The purpose an operator stated (X-Purpose), if any; an unknown one is refused. */
export function statedPurpose(req: FastifyRequest): Purpose | undefined {
  const raw = req.headers['x-purpose'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !(PURPOSES as readonly string[]).includes(raw))
    throw new AppError('VALIDATION_FAILED', `X-Purpose must be one of ${PURPOSES.join(', ')}`);
  return raw as Purpose;
}

/**
 * An operator reading one customer's personal data: refused while the customer's processing is
 * restricted unless a purpose is stated. Customers reading their own data are never refused.
 */
export async function mayRead(ctx: ApiContext, req: FastifyRequest, subject: { customerId?: number | null; accountId?: number | null }): Promise<void> {
  const purpose = statedPurpose(req);
  if (principalOf(req).kind !== 'operator' || purpose) return;
  const customerId = subject.customerId ?? (subject.accountId ? await ctx.directory.customerOf(subject.accountId) : null);
  if (customerId == null) return;
  if ((await ctx.restriction.get(customerId)).restrictedAt) throw new AppError('PURPOSE_REQUIRED');
}

/** A bulk read leaves out restricted customers' records unless the operator stated a purpose. */
export function withoutRestricted(req: FastifyRequest): boolean {
  return principalOf(req).kind === 'operator' && statedPurpose(req) === undefined;
}
