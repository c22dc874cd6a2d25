import { describe, expect, it } from 'vitest';
import { planRoutes, weightedOrder } from '../../src/sip/routing/route-plan.ts';
import type { Carrier, Gateway } from '../../src/sip/routing/route-plan.ts';

const gw = (id: number, carrierId: string, over: Partial<Gateway> = {}): Gateway => ({
  id,
  carrierId,
  address: `127.0.0.${id}`,
  port: 5060,
  transport: 'udp',
  priority: 10,
  weight: 100,
  techPrefix: '',
  ...over,
});

describe('route plan', () => {
  const cheap: Carrier = { id: 'cheap', prefixes: ['44'], gateways: [gw(1, 'cheap'), gw(2, 'cheap', { priority: 20 })], buyRate: () => 5_000 };
  const dear: Carrier = { id: 'dear', prefixes: [''], gateways: [gw(3, 'dear', { priority: 1, transport: 'tcp', techPrefix: '9#' })], buyRate: () => 9_000 };
  const noRate: Carrier = { id: 'norate', prefixes: ['4420'], gateways: [gw(4, 'norate', { priority: 0 })] };

  it('least cost: cheapest carrier first (its gateways by priority), carriers without a rate last', () => {
    expect(planRoutes([dear, noRate, cheap], '442079460018', 'least_cost').map((a) => a.gateway.id)).toEqual([1, 2, 3, 4]);
  });
  it('priority: by gateway priority across carriers', () => {
    expect(planRoutes([dear, noRate, cheap], '442079460018', 'priority').map((a) => a.gateway.id)).toEqual([4, 3, 1, 2]);
  });
  it('only carriers whose prefixes cover the destination', () => {
    expect(planRoutes([dear, noRate, cheap], '33123456789', 'least_cost').map((a) => a.carrierId)).toEqual(['dear']);
    expect(planRoutes([cheap], '33123456789', 'least_cost')).toEqual([]);
  });
  it('builds the request URI with tech prefix, port and transport', () => {
    expect(planRoutes([dear], '33123456789', 'priority')[0]!.uri).toBe('sip:9#33123456789@127.0.0.3:5060;transport=tcp');
    expect(planRoutes([{ ...dear, gateways: [gw(5, 'dear', { address: '::1' })] }], '331', 'priority')[0]!.uri).toBe('sip:331@[::1]:5060');
  });
  it('refuses a destination that is not digits', () => {
    expect(planRoutes([dear], '44abc', 'priority')).toEqual([]);
  });
  it('spreads equal gateways in proportion to weight', () => {
    const items = [
      { id: 'a', weight: 300 },
      { id: 'b', weight: 100 },
    ];
    let first = 0;
    for (let i = 0; i < 4000; i++) {
      const r = (i + 0.5) / 4000;
      if (weightedOrder(items, () => r)[0]!.id === 'a') first++;
    }
    expect(first).toBe(3000);
  });
});
