import type { FastifyReply } from 'fastify';
import { balanceOf } from '../routes/money.ts';
import type { ApiContext } from '../api-context.ts';
import { formatMoney } from './money-format.ts';

/** The live balance as the pages show it: every amount already formatted on the server. */
export async function balanceView(ctx: ApiContext, accountId: number, locale: string) {
  const b = await balanceOf(ctx, accountId);
  const f = (m: number) => formatMoney(m, b.currency, locale);
  return { balance: f(b.balance), available: f(b.available), reserved: f(b.reserved), callsInProgress: String(b.callsInProgress), status: b.status ?? '' };
}

/**
 * Server-sent `balance` events for a page: now, then at every change (polled like the API's own
 * balance stream); ends when `stillAllowed` says the session is gone, or the page closes.
 * `extra` adds fields of the page's own (already rendered and escaped) to each event.
 */
export function streamBalanceView(
  ctx: ApiContext,
  reply: FastifyReply,
  accountId: number,
  locale: string,
  stillAllowed: () => Promise<boolean>,
  extra?: () => Promise<Record<string, string>>,
): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-content-type-options': 'nosniff',
  });
  const interval = ctx.settings.balanceStreamIntervalMs ?? 1000;
  let last = '';
  let idle = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
  res.on('close', stop);
  const tick = async () => {
    if (stopped) return;
    try {
      if (!(await stillAllowed())) {
        res.write('event: ended\ndata: {}\n\n');
        stop();
        res.end();
        return;
      }
      const json = JSON.stringify({ ...(await balanceView(ctx, accountId, locale)), ...(extra ? await extra() : {}) });
      if (json !== last) {
        last = json;
        idle = 0;
        res.write(`event: balance\ndata: ${json}\n\n`);
      } else if ((idle += interval) >= 15_000) {
        idle = 0;
        res.write(': keep-alive\n\n');
      }
    } catch {
      stop();
      res.end();
      return;
    }
    if (!stopped) timer = setTimeout(() => void tick(), interval);
  };
  void tick();
}
