/**
 * Commands the SIP application accepts over Redis pub/sub (the API sends them). The SIP app subscribes to
 * `sipCommandsChannel(namespace)` and parses each message as a `SipCommand` (JSON).
 *
 *   channel  <namespace>:sip:commands
 *   message  {"op":"hangup","callId":"...","accountId":42,"requestedBy":"apikey:0a1b2c3d4e5f","at":1767225600000}
 *
 * On `hangup` the app that holds the call ends it (BYE to both legs) and settles it as usual.
 * Apps that do not hold the call ignore the message; the publish reports how many subscribers
 * received it.
 */
export const SIP_COMMANDS_CHANNEL_SUFFIX = ':sip:commands';

export function sipCommandsChannel(namespace: string): string {
  return `${namespace}${SIP_COMMANDS_CHANNEL_SUFFIX}`;
}

export interface HangupCommand {
  op: 'hangup';
  callId: string;
  accountId: number | null;
  requestedBy: string;
  at: number; // epoch ms
}

export type SipCommand = HangupCommand;

/** Parses a message from the channel; undefined for anything that is not a known command. */
export function parseSipCommand(message: string): SipCommand | undefined {
  let v: unknown;
  try {
    v = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const c = v as Record<string, unknown>;
  if (c.op === 'hangup' && typeof c.callId === 'string' && c.callId.length > 0) {
    return {
      op: 'hangup',
      callId: c.callId,
      accountId: typeof c.accountId === 'number' ? c.accountId : null,
      requestedBy: typeof c.requestedBy === 'string' ? c.requestedBy : '',
      at: typeof c.at === 'number' ? c.at : 0,
    };
  }
  return undefined;
}
