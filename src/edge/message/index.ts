/**
 * The SIP message layer: model, parser, serialiser, grammar helpers and builders.
 * Imports nothing outside this folder.
 *
 *   parseMessage(bytes)           → { ok: true, message } | { ok: false, error: SipParseError }
 *   serialiseMessage(message)     → Buffer (Content-Length always right)
 *   message.get / getAll / set / append / prepend / remove   (case-insensitive, compact forms)
 *   message.callId / cseq / from / to / fromTag / toTag / vias / topVia / maxForwards
 *   createResponse(request, status, { toTag })  and  createCancel / createAckForNon2xx
 */
export type { CSeq, NameAddr, Params, SipHeader, SipUri, Via } from './types.ts';
export { MANDATORY_HEADERS } from './types.ts';
export { SipMessageBase } from './sip-message-base.ts';
export { SipRequest } from './sip-request.ts';
export { SipResponse } from './sip-response.ts';
export { SipParseError, type SipParseErrorCode } from './sip-parse-error.ts';
export { parseMessage, findHeaderEnd, type ParseOptions, type ParseResult, type SipMessage } from './message-parser.ts';
export { serialiseMessage, serialiseHead } from './serialise.ts';
export { canonicalHeaderName, headerKey, isListHeader } from './header-names.ts';
export {
  bracketHost,
  isToken,
  parseCSeq,
  parseNameAddr,
  parseParams,
  parseUri,
  parseVia,
  serialiseNameAddr,
  serialiseParams,
  serialiseUri,
  serialiseVia,
  splitHeaderValues,
  stripBrackets,
} from './grammar.ts';
export { addTag, canFormResponse, createAckForNon2xx, createCancel, createResponse, type ResponseOptions } from './builders.ts';
export { BRANCH_MAGIC_COOKIE, generateBranch, generateCallId, generateTag, randomToken } from './identifiers.ts';
export { reasonPhrase } from './reason-phrases.ts';
