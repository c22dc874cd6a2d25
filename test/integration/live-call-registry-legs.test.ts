/**
 * The live-call registry's record of a call's legs, against real Redis: both legs of a bridged
 * call, or one leg on its own (a menu callback's customer in the menu, no call placed from it
 * yet), read back as written; a callee that is there but unreadable makes the record unreadable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LegState } from '../../src/sip/call/leg-state.ts';
import { LiveCallRegistry } from '../../src/sip/call/live-call-registry.ts';
import { setupServices } from '../support/services.ts';
import type { TestServices } from '../support/services.ts';

let s: TestServices;
let registry: LiveCallRegistry;
beforeAll(async () => {
  s = await setupServices('livelegs');
  registry = new LiveCallRegistry(s.redis, { namespace: s.namespace, maxCallSeconds: 600 });
});
afterAll(async () => {
  await s?.teardown();
});

const leg = (callId: string): LegState => ({
  callId,
  local: '<sip:switch@127.0.0.1>;tag=a1',
  remote: '<sip:+442071234567@127.0.0.9>;tag=b2',
  cseq: 1,
  remoteTarget: 'sip:phone@127.0.0.9:5070',
  routeSet: [],
  transport: 'udp',
  source: '127.0.0.9:5070',
});

describe('live-call registry: legs', () => {
  it('a call with both legs and one with its caller alone are read back as written', async () => {
    await registry.record(1, 'callback-x-b', 'app-1', { server: 'edge:5060', caller: leg('a'), callee: leg('b') }, 1000);
    await registry.record(1, 'callback-x-a', 'app-1', { server: 'edge:5060', caller: leg('a') }, 1000);
    expect((await registry.get(LiveCallRegistry.member(1, 'callback-x-b')))?.legs).toEqual({ server: 'edge:5060', caller: leg('a'), callee: leg('b') });
    const alone = await registry.get(LiveCallRegistry.member(1, 'callback-x-a'));
    expect(alone?.legs).toEqual({ server: 'edge:5060', caller: leg('a') });
    expect(alone?.legs.callee).toBeUndefined();
  });

  it('a callee that is there but unreadable makes the record unreadable (not a caller alone)', async () => {
    await registry.record(2, 'bad', 'app-1', { server: 'edge:5060', caller: leg('a') }, 1000);
    await s.redis.hset(`${s.namespace}:sip:live:2:bad`, 'legs', JSON.stringify({ server: 'edge:5060', caller: leg('a'), callee: { callId: 'b' } }));
    expect(await registry.get(LiveCallRegistry.member(2, 'bad'))).toBeUndefined();
  });
});
