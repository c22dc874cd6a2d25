/**
 * CLI commands for vouchers, through the same service the API uses (src/accounts/vouchers.ts):
 *   voucher create <name> <count> <AMOUNT> <CUR> --expires=ISO   the codes as CSV on stdout, once
 *   voucher list | disable <batch id>
 *   voucher redeem <account id> <code>                            for a customer on the phone
 */
import type { AccountLookup } from '../accounts/account-ports.ts';
import { normaliseVoucherCode } from '../accounts/vouchers.ts';
import type { Vouchers } from '../accounts/vouchers.ts';
import { AppError } from '../errors.ts';
import type { AuditLog } from '../privacy/audit-log.ts';
import { formatMicros, parseMajorAmount } from './amount.ts';
import { Options, parseId, UsageError } from './args.ts';

export interface VoucherCommandContext {
  vouchers: Vouchers;
  accounts: AccountLookup;
  audit: AuditLog;
  actor: string;
  out: (human: string, data: unknown) => void;
  /** Raw output (the CSV), not a line of prose. */
  write: (text: string) => void;
  json: boolean;
}

export async function voucherCommands(c: VoucherCommandContext, sub: string | undefined, args: string[], opts: Map<string, string | true>): Promise<number> {
  switch (sub) {
    case 'create': {
      const o = new Options(opts, ['expires']);
      if (args.length !== 4) throw new UsageError('voucher create <name> <count> <AMOUNT> <CUR> --expires=ISO');
      const [name, countText, amountText, currency] = args as [string, string, string, string];
      if (!/^\d{1,6}$/.test(countText)) throw new UsageError('count must be a whole number (1 to 100000)');
      const expires = o.string('expires');
      if (expires === undefined || Number.isNaN(Date.parse(expires))) throw new UsageError('--expires=ISO date-time is required (e.g. 2027-06-30T23:59:59Z)');
      const { batch, codes } = await c.vouchers.createBatch(
        { name, count: Number(countText), value: parseMajorAmount(amountText, 'amount'), currency, expiresAt: new Date(expires) },
        c.actor,
      );
      await c.audit.write({ actor: c.actor, action: 'voucher_batch.create', detail: { batchId: batch.id, count: batch.count, value: batch.value, currency } });
      if (c.json) c.out('', { batch, codes });
      else {
        c.write('code,value_micros,currency,expires_at,batch\n');
        for (const code of codes) c.write(`${code},${batch.value},${batch.currency},${batch.expiresAt.toISOString()},${batch.id}\n`);
      }
      return 0;
    }
    case 'list': {
      new Options(opts, []);
      const items = await c.vouchers.listBatches();
      c.out(
        items
          .map(
            (b) =>
              `${b.id}\t${b.name}\t${b.redeemed}/${b.count} redeemed\t${formatMicros(b.value)} ${b.currency}\texpires ${b.expiresAt.toISOString()}${b.disabledAt ? '\tWITHDRAWN' : ''}`,
          )
          .join('\n') || 'no voucher batches',
        { items },
      );
      return 0;
    }
    case 'disable': {
      new Options(opts, []);
      const id = parseId(args[0], 'batch id');
      const b = await c.vouchers.disableBatch(id);
      await c.audit.write({ actor: c.actor, action: 'voucher_batch.disable', detail: { batchId: id } });
      c.out(`batch ${id} withdrawn: its ${b.count - b.redeemed} unredeemed codes no longer work`, b);
      return 0;
    }
    case 'redeem': {
      new Options(opts, []);
      if (args.length !== 2) throw new UsageError('voucher redeem <account id> <code>');
      const accountId = parseId(args[0], 'account id');
      const code = normaliseVoucherCode(args[1]!);
      if (!code) throw new AppError('INVALID_VOUCHER_CODE');
      const a = await c.accounts.get(accountId);
      const r = await c.vouchers.redeem(a, code);
      if (!r.ok) {
        await c.audit.write({ actor: c.actor, action: 'voucher.refused', customerId: a.customerId, accountId });
        throw new AppError('VOUCHER_NOT_REDEEMABLE');
      }
      await c.audit.write({ actor: c.actor, action: 'voucher.redeem', customerId: a.customerId, accountId, detail: { batchId: r.batchId, amount: r.amount } });
      c.out(`${formatMicros(r.amount)} ${r.currency} credited to account ${accountId}; balance ${formatMicros(r.balanceAfter)} ${r.currency}`, {
        accountId,
        amount: r.amount,
        currency: r.currency,
        balanceAfter: r.balanceAfter,
      });
      return 0;
    }
    default:
      throw new UsageError('voucher create | list | disable | redeem');
  }
}
