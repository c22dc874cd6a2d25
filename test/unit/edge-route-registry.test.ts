/** The SIP server's choice of app connection for a new request: round-robin, with Call-ID affinity for INVITEs. */
import { describe, expect, it } from 'vitest';
import { AFFINITY_MS, RouteRegistry } from '../../src/edge/wire/route-registry.ts';
import type { AppConnection } from '../../src/edge/wire/app-connection.ts';

const conn = (name: string): AppConnection & { name: string; isOpen: boolean } =>
  ({ name, isOpen: true, verbs: new Set<string>() }) as unknown as AppConnection & { name: string; isOpen: boolean };

function registry() {
  const r = new RouteRegistry();
  const a = conn('a');
  const b = conn('b');
  r.add(a, 'invite');
  r.add(b, 'invite');
  return { r, a, b };
}

describe('edge route registry', () => {
  it('an INVITE retried with its Call-ID (after a 407) goes where the first went; new calls alternate', () => {
    const { r } = registry();
    const names = ['c1', 'c1', 'c2', 'c2', 'c3', 'c3', 'c4', 'c4'].map((id, i) => (r.choose('invite', id, i * 10) as unknown as { name: string }).name);
    expect(names).toEqual(['a', 'a', 'b', 'b', 'a', 'a', 'b', 'b']);
  });

  it('the affinity ends after AFFINITY_MS, or when the connection closes', () => {
    const { r, a } = registry();
    expect(r.choose('invite', 'x', 0)).toBe(a);
    expect(r.choose('invite', 'x', AFFINITY_MS - 1)).toBe(a);
    expect(r.choose('invite', 'x', AFFINITY_MS + 1)).not.toBe(a);
    expect(r.choose('invite', 'y', AFFINITY_MS + 2)).toBe(a);
    a.isOpen = false;
    expect(r.choose('invite', 'y', AFFINITY_MS + 3)).not.toBe(a);
  });

  it('without a Call-ID: plain round-robin', () => {
    const { r, a, b } = registry();
    expect([r.choose('invite'), r.choose('invite'), r.choose('invite')]).toEqual([a, b, a]);
  });
});
