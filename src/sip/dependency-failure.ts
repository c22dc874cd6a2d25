import type { Logger } from 'pino';
import { sipStatusOf } from '../errors.ts';
import type { SipRequest, SipResponse } from './sip-types.ts';

/**
 * A request that fails because Redis or Postgres cannot be reached is not the caller's fault nor
 * a bug: it is answered 503 with a Retry-After (RFC 3261 §21.5.4), so a device retries later and a
 * SIP server or load balancer in front may try another instance. Anything else that escapes a
 * handler is a bug: 500, logged at error.
 */
export const RETRY_AFTER_SECONDS = 5;

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);
const UNREACHABLE_MESSAGES =
  /Connection is closed|Stream isn't writeable|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i;
/** A Redis Cluster between a primary's failure and its replica's promotion (or with no slot map at all). */
const CLUSTER_FAILING_OVER = /^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN) |Too many Cluster redirections|Failed to refresh slots cache/;

/** Is `err` a dependency (Redis, Postgres) being unreachable, rather than a bug? */
export function isDependencyUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'ClusterAllFailedError') return true;
  if (CLUSTER_FAILING_OVER.test(err.message)) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  return UNREACHABLE_MESSAGES.test(err.message);
}

/** Answers a request whose handling failed with `err` (if no final response went out yet). */
export function answerFailure(req: SipRequest, res: SipResponse, err: unknown, log: Logger): void {
  const callId = req.get('Call-ID');
  if (isDependencyUnavailable(err)) {
    log.warn({ callId, method: req.method, err: (err as Error).message }, 'request refused: a dependency is unreachable');
    const [status, reason] = sipStatusOf('SERVICE_UNAVAILABLE');
    send(res, status, reason, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
    return;
  }
  log.error({ callId, method: req.method, err: (err as Error | undefined)?.stack ?? String(err) }, 'request handling failed');
  const [status, reason] = sipStatusOf('INTERNAL');
  send(res, status, reason);
}

function send(res: SipResponse, status: number, reason: string, headers?: Record<string, string>): void {
  if ((res as { finalResponseSent?: boolean }).finalResponseSent === true) return;
  try {
    res.send(status, reason, headers ? { headers } : undefined);
  } catch {
    /* a final response went out already */
  }
}

/**
 * drachtio-srf error middleware (four arguments): where a guard's `next(err)` lands instead of
 * drachtio-srf's default 500.
 */
export function answerMiddlewareFailures(log: Logger): (err: unknown, req: SipRequest, res: SipResponse, next: (err?: unknown) => void) => void {
  return (err, req, res, _next) => {
    answerFailure(req, res, err, log);
  };
}
