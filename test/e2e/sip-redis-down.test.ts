/**
 * Redis unreachable: the app cannot check bans, nonces or credit, so a new call is refused with
 * 503 and a Retry-After (RFC 3261 §21.5.4: the caller or the SIP server may try elsewhere, or
 * later), never 500; when Redis is back, calls go through again. Redis here is reached through a
 * TCP proxy the test takes down (the shared Redis cannot be stopped under the other test files).
 */
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipAppHarness } from '../support/sip-app-harness.ts';
import type { Device } from '../support/sip-app-harness.ts';
import { TEST_REDIS_URL } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const redis = new URL(TEST_REDIS_URL);
const proxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
let h: SipAppHarness;
let dev: Device;

beforeAll(async () => {
  await proxy.up();
  h = await SipAppHarness.start('redisdown', { redisUrl: `redis://127.0.0.1:${proxy.port}` });
  dev = await h.device(1_000_000);
  h.s.redis.on('error', () => undefined); // reconnect attempts while the proxy is down are expected
});
afterAll(async () => {
  await proxy.up();
  await h.stop();
});

/** One request from a device's address; resolves with the final response's text. */
async function request(method: 'INVITE' | 'REGISTER', user: string): Promise<string> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, h.deviceIp, () => resolve()));
  const [ip, port] = h.remote.split(':') as [string, string];
  const local = `${h.deviceIp}:${socket.address().port}`;
  const callId = `redis-down-${Math.random().toString(36).slice(2)}`;
  const uri = method === 'INVITE' ? `sip:00441632960001@${h.remote}` : `sip:${h.remote}`;
  try {
    const final = new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no final response to the ${method}`)), 15_000);
      socket.on('message', (m) => {
        const text = m.toString();
        if (!/^SIP\/2\.0 [2-6]\d\d/.test(text)) return;
        clearTimeout(t);
        if (method === 'INVITE') {
          const via = /^Via: (.*)$/m.exec(text)?.[1] ?? '';
          const to = /^To: (.*)$/m.exec(text)?.[1] ?? '';
          socket.send(
            `ACK ${uri} SIP/2.0\r\nVia: ${via}\r\nFrom: <sip:${user}@${h.remote}>;tag=f${callId}\r\nTo: ${to}\r\nCall-ID: ${callId}\r\n` +
              'CSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
            Number(port),
            ip,
          );
        }
        resolve(text);
      });
    });
    socket.send(
      `${method} ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP ${local};rport;branch=z9hG4bK${callId}\r\n` +
        `From: <sip:${user}@${h.remote}>;tag=f${callId}\r\nTo: <sip:${method === 'INVITE' ? '00441632960001' : user}@${h.remote}>\r\n` +
        `Call-ID: ${callId}\r\nCSeq: 1 ${method}\r\nContact: <sip:${user}@${local}>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
      Number(port),
      ip,
    );
    return await final;
  } finally {
    socket.close();
  }
}

describe('Redis unreachable', () => {
  it('a new INVITE gets 503 with Retry-After, not 500; once Redis is back it is challenged again', async () => {
    expect(await request('INVITE', dev.username)).toMatch(/^SIP\/2\.0 407 /);
    await proxy.down();
    const refused = await request('INVITE', dev.username);
    expect(refused).toMatch(/^SIP\/2\.0 503 /);
    expect(refused).toMatch(/^Retry-After: \d+/m);
    await proxy.up();
    expect(await request('INVITE', dev.username)).toMatch(/^SIP\/2\.0 407 /);
  });

  it('a REGISTER gets 503 with Retry-After too', async () => {
    await proxy.down();
    try {
      const refused = await request('REGISTER', dev.username);
      expect(refused).toMatch(/^SIP\/2\.0 503 /);
      expect(refused).toMatch(/^Retry-After: \d+/m);
    } finally {
      await proxy.up();
    }
  });
});
