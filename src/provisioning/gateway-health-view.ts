/** Gateway health for the API and the console: what the SIP app processes last recorded in Redis. */
import type { RedisClient } from '../common/redis-connection.ts';
import { gatewayHealthKeys } from '../common/gateway-health-state.ts';
import type { GatewayState, GatewayTransition } from '../common/gateway-health-state.ts';

export class GatewayHealthView {
  constructor(
    private readonly redis: RedisClient,
    private readonly namespace: string,
  ) {}

  /** Every probed gateway's state, by gateway id. */
  async states(): Promise<GatewayState[]> {
    const all = await this.redis.hgetall(gatewayHealthKeys(this.namespace).state);
    return Object.values(all)
      .map((v) => JSON.parse(v) as GatewayState)
      .sort((a, b) => a.gatewayId - b.gatewayId);
  }

  /** The last up/down transitions, newest first. */
  async history(limit = 50): Promise<GatewayTransition[]> {
    const raw = await this.redis.lrange(gatewayHealthKeys(this.namespace).history, 0, Math.max(0, limit - 1));
    return raw.map((v) => JSON.parse(v) as GatewayTransition);
  }
}
