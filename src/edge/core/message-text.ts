/** SIP messages as text for frame bodies, and their sizes. */
import { serialiseMessage, type SipMessage } from '../message/index.ts';

/** The message as it goes (or went) on the wire, decoded as UTF-8 for a frame body. */
export function messageText(message: SipMessage): string {
  return serialiseMessage(message).toString('utf8');
}

export function messageBytes(message: SipMessage): { text: string; bytes: number } {
  const buf = serialiseMessage(message);
  return { text: buf.toString('utf8'), bytes: buf.length };
}
