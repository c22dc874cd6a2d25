/**
 * Mailing lists: a send goes only to the list's current recipients, each mail with RFC 8058
 * one-click unsubscribe headers; the link (POSTed by a mail program) records the opt-out, a GET
 * changes nothing, a forged token nothing either; the next send skips the person.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpSink } from '../support/smtp-sink.ts';
import { body, expectProblem, harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
let sink: SmtpSink;
beforeAll(async () => {
  h = await harness('apilists', { mail: { linkBaseUrl: 'https://selfcare.example.test', retry: { baseSeconds: 1, maxSeconds: 2, maxAttempts: 5 } } });
  sink = await new SmtpSink().start();
});
afterAll(async () => {
  await sink?.stop();
  await h?.close();
});

async function deliver(): Promise<void> {
  await sink.deliver(h.ctx.outbox, 'news@softswitch.test');
}

describe('mailing lists that honour opt-out', () => {
  it('a send reaches only consenting customers, with one-click unsubscribe that records the opt-out', async () => {
    const a = await h.customerWithAccount();
    const b = await h.customerWithAccount();
    const c = await h.customerWithAccount(); // never opted in
    // only verified addresses receive marketing
    await h.s.pool.query('update customers set email_verified_at = now() where id = any($1)', [[a.customerId, b.customerId, c.customerId]]);
    await h.ctx.consents.set(a.customerId, 'customer', true, 'customer', 'person');
    await h.ctx.consents.set(b.customerId, 'customer', true, 'customer', 'person');
    await h.ctx.consents.set(b.customerId, 'customer', false, 'customer', 'person');
    const aEmail = await h.directoryEmail(a.customerId);

    const send = () =>
      h.call('POST', '/v1/mailing-lists/customer/messages', { body: { subject: 'December offers', text: 'Cheaper calls to Spain.\n\nUntil the 31st.' } });
    const r = await send();
    expect(r.statusCode).toBe(202);
    expect(body(r)).toEqual({ sendId: expect.any(String), recipients: 1 });
    expectProblem(
      expect,
      await h.call('POST', '/v1/mailing-lists/customer/messages', { key: h.keys.billing, body: { subject: 'x', text: 'y' } }),
      403,
      'FORBIDDEN',
    );

    const before = sink.received.length;
    await deliver();
    await sink.waitFor(before + 1);
    const got = sink.received.slice(before);
    expect(got.map((m) => m.envelopeTo[0])).toEqual([aEmail]);
    const m = got[0]!;
    const head = m.raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
    expect(head).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    const raw = /^List-Unsubscribe: <([^>]+)>\r?$/m.exec(head)![1]!;
    expect(raw).toMatch(/^https:\/\/selfcare\.example\.test\/unsubscribe\?t=\d+\.customer\.[A-Za-z0-9_-]{43}$/);
    expect(m.parsed.text).toContain('Cheaper calls to Spain.');
    expect(m.parsed.text).toContain(raw);
    const url = new URL(raw);

    // a GET (a link scanner, a preview) changes nothing
    const page = await h.app.inject({ method: 'GET', url: url.pathname + url.search });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<button type="submit">Unsubscribe</button>');
    expect((await h.ctx.consents.of(a.customerId))[0]!.optedIn).toBe(true);

    // a forged token (another customer) is refused and changes nothing
    const forged = url.search.replace(/t=(\d+)\./, `t=${b.customerId}.`);
    expect(
      (
        await h.app.inject({
          method: 'POST',
          url: `/unsubscribe${forged}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'List-Unsubscribe=One-Click',
        })
      ).statusCode,
    ).toBe(404);

    // the mail program's one-click POST (RFC 8058)
    const post = await h.app.inject({
      method: 'POST',
      url: url.pathname + url.search,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(post.statusCode).toBe(200);
    expect(post.body).toContain('Done: you will get no more news and offers for customers from us.');
    expect((await h.ctx.consents.of(a.customerId))[0]).toMatchObject({ list: 'customer', optedIn: false });
    const { rows } = await h.s.pool.query('select action, actor from consent_events where customer_id = $1 order by id', [a.customerId]);
    expect(rows.at(-1)).toEqual({ action: 'opt_out', actor: 'unsubscribe-link' });
    // again: still fine (idempotent)
    expect(
      (
        await h.app.inject({
          method: 'POST',
          url: url.pathname + url.search,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'List-Unsubscribe=One-Click',
        })
      ).statusCode,
    ).toBe(200);

    expect(body(await send())).toEqual({ sendId: expect.any(String), recipients: 0 });
  });
});
