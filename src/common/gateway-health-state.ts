/**
 * Gateway health as the SIP app processes record it in Redis (sip/routing/gateway-health.ts) and
 * the API and console read it (provisioning/gateway-health-view.ts): one hash field per gateway
 * with its current state, and a capped list of up/down transitions, newest first.
 */
export interface GatewayState {
  gatewayId: number;
  carrierId: string;
  address: string;
  port: number;
  up: boolean;
  /** When it last changed between up and down (ms since the epoch). */
  since: number;
  lastProbeAt: number;
  /** The last probe's status (undefined: no answer). */
  lastStatus: number | undefined;
  failures: number;
}

export interface GatewayTransition {
  gatewayId: number;
  carrierId: string;
  up: boolean;
  at: number;
  lastStatus: number | undefined;
}

/** Transitions kept (newest first). */
export const GATEWAY_HISTORY = 200;

export function gatewayHealthKeys(namespace: string): { state: string; history: string } {
  // one hash tag: a state change and its history entry are written in one MULTI (one cluster slot)
  return { state: `${namespace}:{gateway-health}`, history: `${namespace}:{gateway-health}:history` };
}
