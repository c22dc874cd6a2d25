import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { buildHttpServer } from '../../src/api/http-server.ts';

describe("the SIP application's health server", () => {
  it('logs as the health component, not as the account API', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const app = buildHttpServer({ logger: pino({ name: 'softswitch' }, sink), checks: {} });
    await app.listen({ host: '127.0.0.1', port: 0 });
    await app.close();
    const listening = lines.find((l) => /listening/i.test(String(l.msg)));
    expect(listening).toMatchObject({ component: 'health' });
  });
});
