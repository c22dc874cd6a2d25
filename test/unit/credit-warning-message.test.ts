import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { creditWarningText, sendCreditWarning } from '../../src/sip/call/credit-warning-message.ts';

describe('the credit warning a device gets by MESSAGE', () => {
  it.each([
    [1, 'Credit low: this call ends in 1 second.'],
    [30, 'Credit low: this call ends in 30 seconds.'],
    [59, 'Credit low: this call ends in 59 seconds.'],
    [60, 'Credit low: this call ends in 1 minute.'],
    [150, 'Credit low: this call ends in 2 minutes.'],
  ])('%i s left: %s', (seconds, text) => {
    expect(creditWarningText(seconds)).toBe(text);
  });

  it('is sent in the dialog as text/plain; a refusal or a failure ends nothing', async () => {
    const sent: unknown[] = [];
    const ok = { request: (o: unknown) => (sent.push(o), Promise.resolve({ status: 405 })) };
    sendCreditWarning(ok, 30, pino({ level: 'silent' }));
    const broken = { request: () => Promise.reject(new Error('dialog gone')) };
    expect(() => sendCreditWarning(broken, 30, pino({ level: 'silent' }))).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([{ method: 'MESSAGE', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: 'Credit low: this call ends in 30 seconds.' }]);
  });
});
