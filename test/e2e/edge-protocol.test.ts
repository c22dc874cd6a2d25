/**
 * Protocol-level tests of the edge's admin port (spec §1–3, E.1–E.3, E.20, E.23): a raw client
 * writes frames by hand; a second part drives drachtio-srf against the edge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/edge/wire/frame-decoder.ts';
import { RawAdminClient } from '../support/edge-apps/raw-admin-client.ts';
import { SECRET, connectApp, startEdge, type TestEdge } from '../support/edge-apps/edge-harness.ts';
import { runSipp } from '../support/edge-apps/sipp-runner.ts';
import { asResponse } from '../support/edge-apps/srf-views.ts';

let edge: TestEdge;
beforeAll(async () => {
  edge = await startEdge();
});
afterAll(async () => {
  await edge.stop();
});

async function login(): Promise<RawAdminClient> {
  const c = await RawAdminClient.open(edge.ip, edge.adminPort);
  c.send(`login-1|authenticate|${SECRET}|`);
  const r = await c.reply('login-1');
  expect(r.tokens[3]).toBe('OK');
  return c;
}

describe('edge admin protocol', () => {
  it('answers authenticate with R1: host-port lists and a version srf accepts (E.1)', async () => {
    const c = await RawAdminClient.open(edge.ip, edge.adminPort);
    c.send(`a1|authenticate|${SECRET}|tag1,tag2`);
    const r = await c.reply('a1');
    expect(r.tokens).toHaveLength(7);
    expect(r.tokens.slice(3, 4)).toEqual(['OK']);
    expect(r.tokens[4]).toBe(`udp/${edge.ip}:${edge.sipPort},tcp/${edge.ip}:${edge.sipPort}`);
    expect(r.tokens[5]).toMatch(/^v0\.9\.\d+/);
    expect(r.tokens[0]).toMatch(/^[0-9a-f-]{36}$/);
    c.close();
  });

  it('rejects a wrong secret with NO|incorrect secret and closes (E.2)', async () => {
    const c = await RawAdminClient.open(edge.ip, edge.adminPort);
    c.send('bad-1|authenticate|wrong-secret|');
    const r = await c.reply('bad-1');
    expect(r.tokens.slice(3)).toEqual(['NO', 'incorrect secret']);
    await c.closedPromise;
    expect(c.closed).toBe(true);
  });

  it('answers ping with OK|pong, also before authentication (E.3)', async () => {
    const c = await RawAdminClient.open(edge.ip, edge.adminPort);
    c.send('raw-A-1|ping');
    const r = await c.reply('raw-A-1');
    expect(r.payload).toMatch(/^[0-9a-f-]{36}\|response\|raw-A-1\|OK\|pong$/);
    c.close();
  });

  it('processes a frame written one byte at a time, and coalesced frames, in order (E.23)', async () => {
    const c = await login();
    await c.writeByteByByte(Buffer.from(encodeFrame('raw-F-2|ping')));
    expect((await c.reply('raw-F-2')).tokens.slice(3)).toEqual(['OK', 'pong']);
    c.writeRaw(encodeFrame('raw-F-3|ping') + encodeFrame('raw-F-4|route|info'));
    const a = await c.reply('raw-F-3');
    const b = await c.reply('raw-F-4');
    expect(c.frames.indexOf(a)).toBeLessThan(c.frames.indexOf(b));
    expect(b.tokens.slice(3)).toEqual(['OK']);
    c.close();
  });

  it('counts UTF-8 bytes, recomputes Content-Length and re-serialises the request (E.23)', async () => {
    const c = await login();
    const body = 'héllo wörld ✓';
    c.send(`raw-F-5|sip||\r\nMESSAGE sip:bob@${edge.ip}:9 SIP/2.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\r\n${body}`);
    const r = await c.reply('raw-F-5');
    expect(r.tokens[3]).toBe('OK');
    expect(r.tokens).toHaveLength(13);
    expect(r.body).toContain('Content-Length: 17\r\n');
    expect(r.body.endsWith(body)).toBe(true);
    expect(r.body).toMatch(/^MESSAGE sip:bob@/);
    expect(r.body).toMatch(/\r\nVia: SIP\/2\.0\/UDP [^\r]*;rport;branch=z9hG4bK/);
    c.close();
  });

  it('closes the connection on a malformed length with no reply (E.3 abc#hello)', async () => {
    const c = await RawAdminClient.open(edge.ip, edge.adminPort);
    c.writeRaw('abc#hello');
    await c.closedPromise;
    expect(c.frames).toHaveLength(0);
  });

  it('answers parser failures with NO and closes: one token, unknown type (E.3)', async () => {
    const c1 = await login();
    c1.send('raw-B-4');
    expect((await c1.reply('raw-B-4')).tokens.slice(3)).toEqual(['NO', 'Invalid message format']);
    await c1.closedPromise;
    const c2 = await login();
    c2.send('raw-A-3|no-such-type|x');
    expect((await c2.reply('raw-A-3')).tokens.slice(3)).toEqual(['NO', 'Unknown message type']);
    await c2.closedPromise;
  });

  it('answers SIP-level failures with NOK and keeps the connection (E.3)', async () => {
    const c = await login();
    c.send('raw-C-6|sip|no-such-txn|\r\nSIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
    expect((await c.reply('raw-C-6')).tokens.slice(3)).toEqual(['NOK', 'Response not sent due to unknown transaction']);
    c.send('raw-C-7|sip||no-such-dialog;from-tag=x\r\nINFO sip:placeholder SIP/2.0\r\nContent-Length: 0\r\n\r\n');
    expect((await c.reply('raw-C-7')).tokens.slice(3)).toEqual(['NOK', 'Server error: unable to find dialog for dialog id provided']);
    c.send('raw-C-8|sip||no-such-dialog;from-tag=x\r\nACK sip:placeholder SIP/2.0\r\nContent-Length: 0\r\n\r\n');
    expect((await c.reply('raw-C-8')).tokens.slice(3)).toEqual([
      'NOK',
      'Server error: ACK for non-success final response is automatically generated by server',
    ]);
    c.send('raw-C-9|sip|no-such-txn|\r\nCANCEL sip:bob@127.0.0.1:5177 SIP/2.0\r\nContent-Length: 0\r\n\r\n');
    expect((await c.reply('raw-C-9')).tokens.slice(3)).toEqual(['NOK', 'unable to cancel unknown transaction id: no-such-txn']);
    c.send(`raw-C-10|sip||\r\nOPTIONS sip:${edge.ip}:${edge.sipPort} SIP/2.0\r\nContent-Length: 0\r\n\r\n`);
    expect((await c.reply('raw-C-10')).tokens.slice(3)).toEqual(['NOK', 'can not send request to myself']);
    c.send('raw-C-11|sip||\r\nMESSAGE sip:bob@127.0.0.1:5177 SIP/2.0\r\nContent-Length: 5\r\n\r\nhello');
    expect((await c.reply('raw-C-11')).tokens.slice(3)).toEqual(['NOK', 'missing content-type']);
    c.send('raw-C-12|sip||\r\nOPTIONS sip:bob@127.0.0.1:5177;transport=tls SIP/2.0\r\nContent-Length: 0\r\n\r\n');
    expect((await c.reply('raw-C-12')).tokens.slice(3)).toEqual(['NOK', 'requested protocol/transport not available']);
    c.send('raw-C-13|sip||\r\nNOT A REQUEST LINE\r\nContent-Length: 0\r\n\r\n');
    expect((await c.reply('raw-C-13')).tokens.slice(3)).toEqual(['NOK', 'invalid request-uri: NOT A REQUEST LINE']);
    c.send('raw-C-14|sip|\r\nSIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
    expect((await c.reply('raw-C-14')).tokens.slice(3)).toEqual(['NO', 'transaction id missing']);
    await c.closedPromise;
  });

  it('keeps app headers as the reference does: From tag, Call-ID, CSeq kept, Via replaced, custom names (E.22)', async () => {
    const c = await login();
    c.send(
      'raw-G-4|sip||\r\nOPTIONS sip:bob@127.0.0.1:9 SIP/2.0\r\nFrom: <sip:alice@example.com>;tag=app-tag-1\r\nCall-ID: app-call-id-1\r\n' +
        'CSeq: 42 OPTIONS\r\nTo: sip:bob@example.com\r\nX-Custom: one\r\nmy-header: two\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKbogus\r\nContent-Length: 0\r\n\r\n',
    );
    const r = await c.reply('raw-G-4');
    expect(r.tokens[3]).toBe('OK');
    expect(r.body).toContain('From: <sip:alice@example.com>;tag=app-tag-1\r\n');
    expect(r.body).toContain('To: <sip:bob@example.com>\r\n');
    expect(r.body).toContain('Call-ID: app-call-id-1\r\n');
    expect(r.body).toContain('CSeq: 42 OPTIONS\r\n');
    expect(r.body).toContain('X-Custom: one\r\n');
    expect(r.body).toContain('My-Header: two\r\n');
    expect(r.body).not.toContain('bogus');
    c.close();
  });

  it('treats duplicate route commands as one registration: one delivery per request (E.1, §3.1)', async () => {
    const srf = await connectApp(edge);
    let deliveries = 0;
    srf.options((_req, res) => {
      deliveries++;
      asResponse(res).send(200);
    });
    // srf re-sends all verbs when one is added later (its bug); register twice more on purpose.
    srf.register((_req, res) => asResponse(res).send(200));
    srf.info((_req, res) => asResponse(res).send(200));
    const result = await runSipp({ scenario: 'uac-options.xml', localIp: edge.ip, remote: edge.sipHostport, calls: 3, rate: 10, timeoutSec: 10 });
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    expect(deliveries).toBe(3);
    srf.disconnect();
  });
});
