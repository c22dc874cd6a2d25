import { describe, expect, it } from 'vitest';
import { callerIdText, callResultText } from '../../src/api/web/call-cells.ts';
import { textsFor } from '../../src/api/web/texts.ts';

const t = textsFor('en');

describe('call history cells', () => {
  it('an empty caller ID says why', () => {
    expect(callerIdText(t, { kind: 'device', cli: '+447700900123' })).toBe('+447700900123');
    expect(callerIdText(t, { kind: 'did', cli: null })).toBe('none (withheld by the caller)');
    expect(callerIdText(t, { kind: 'device', cli: null })).toBe('none (your phone sent none)');
  });

  it('a call that did not connect gives its reason', () => {
    expect(callResultText(t, { disposition: 'answered', sipCode: 200, sipReason: 'OK' })).toBe('answered');
    expect(callResultText(t, { disposition: 'refused', sipCode: 484, sipReason: 'Address Incomplete' })).toBe('refused: 484 Address Incomplete');
    expect(callResultText(t, { disposition: 'no_answer', sipCode: 480, sipReason: 'Temporarily Unavailable' })).toBe('no answer: 480 Temporarily Unavailable');
    expect(callResultText(t, { disposition: 'failed' })).toBe('failed');
  });
});
