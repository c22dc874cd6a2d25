import { describe, expect, it } from 'vitest';
import { bestResponseIndex } from '../../src/edge/proxy/best-response.ts';
import { parseProxyCommand, parseProxyTimeout } from '../../src/edge/proxy/proxy-command.ts';

describe('edge proxy: best response (RFC 3261 §16.7.6, as the reference ranks)', () => {
  it.each([
    [[486, 503], 0],
    [[503, 486], 1],
    [[486, 603], 1],
    [[404, 407], 1],
    [[302, 500], 1],
    [[302, 404], 1],
    [[480, 486], 0],
    [[500, 503], 0],
    [[], -1],
  ] as Array<[number[], number]>)('%j → index %i', (statuses, best) => {
    expect(bestResponseIndex(statuses)).toBe(best);
  });
});

describe('edge proxy: the proxy command', () => {
  it('reads the flags, timeouts, destinations and the extra headers srf sends', () => {
    const o = parseProxyCommand(
      ['remainInDialog', 'fullResponse', 'followRedirects', 'simultaneous', '2s', '', 'sip:a@127.0.0.1', 'sip:b@127.0.0.1:5070'],
      'INVITE sip:a@127.0.0.1 SIP/2.0\r\nX-Account: 42\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\n\r\n',
    );
    expect(o).toMatchObject({ recordRoute: true, fullResponse: true, followRedirects: true, simultaneous: true, provisionalTimeoutMs: 2000 });
    expect(o.destinations).toEqual(['sip:a@127.0.0.1', 'sip:b@127.0.0.1:5070']);
    expect(o.headers.map((h) => `${h.name}: ${h.value}`)).toEqual(['X-Account: 42']);
  });

  it('serial by default; empty flags are off', () => {
    expect(parseProxyCommand(['', 'fullResponse', '', 'serial', '', '', 'sip:a@b'], '')).toMatchObject({
      recordRoute: false,
      followRedirects: false,
      simultaneous: false,
      provisionalTimeoutMs: 0,
      headers: [],
    });
  });

  it.each([
    ['1500ms', 1500],
    ['2s', 2000],
    ['', 0],
    ['2 s', 0],
    ['-1ms', 0],
    ['1.5s', 0],
  ])('timeout %j → %i ms', (text, ms) => {
    expect(parseProxyTimeout(text)).toBe(ms);
  });
});
