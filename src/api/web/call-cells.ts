/**
 * Cells of a call-history row that would otherwise be blank or cryptic: the caller ID says why it
 * is empty, and a call that did not connect says why (the SIP reason phrase the caller heard).
 */
import type { Texts } from './texts.ts';

export interface CallRow {
  kind?: unknown;
  cli?: unknown;
  disposition?: unknown;
  sipCode?: unknown;
  sipReason?: unknown;
}

export function callerIdText(t: Texts, c: CallRow): string {
  if (typeof c.cli === 'string' && c.cli !== '') return c.cli;
  return c.kind === 'did' || c.kind === 'access_number' ? t.calls.cliWithheld : t.calls.cliNotSent;
}

export function callResultText(t: Texts, c: CallRow): string {
  const disposition = typeof c.disposition === 'string' ? c.disposition : '';
  const label = (t.calls.results as Record<string, string>)[disposition] ?? disposition;
  if (disposition === 'answered' || typeof c.sipReason !== 'string' || c.sipReason === '') return label;
  return `${label}: ${typeof c.sipCode === 'number' ? `${c.sipCode} ` : ''}${c.sipReason}`;
}
