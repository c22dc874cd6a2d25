/**
 * Value types of the SIP message layer (RFC 3261 §7, §19, §20, §25).
 *
 * Headers are kept as raw text in wire order; the structured forms below are produced on
 * demand by the grammar functions (grammar.ts) and the typed accessors of SipMessageBase.
 * Parameter names are lower-cased; parameter values keep their case. A parameter present
 * without a value (`;lr`, `;rport`) maps to `null`.
 */

/** Header, URI or Via parameters, in wire order. Keys lower-cased; `null` = no value. */
export type Params = Map<string, string | null>;

/** One header field as held by a message. */
export interface SipHeader {
  /** The name as written (`Via`, `v`, `call-id`). */
  readonly name: string;
  /** Canonical lower-case long name (`via`, `call-id`): compact forms are expanded. */
  readonly key: string;
  /** The value: unfolded, leading and trailing whitespace removed. */
  readonly value: string;
  /**
   * The whole original line (unfolded), kept so an unchanged header serialises byte for byte
   * as received (e.g. `Content-Length:   129`). Absent for headers added or changed later.
   */
  readonly raw?: string;
}

/** RFC 3261 §19.1 SIP/SIPS URI, or an RFC 3966 tel URI. */
export interface SipUri {
  /** Lower-cased scheme: `sip`, `sips` or `tel` (other schemes are not parsed into a SipUri). */
  readonly scheme: 'sip' | 'sips' | 'tel';
  /** userinfo user part, unescaped text as written (for tel: the number). */
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** Host as written, IPv6 references keep their brackets (`[::1]`); empty for tel. */
  readonly host: string;
  readonly port: number | undefined;
  /** uri-parameters (`;transport=tcp;lr`). For tel: the tel parameters. */
  readonly params: Params;
  /** URI headers (`?subject=x`), names as written. */
  readonly headers: Map<string, string>;
}

/** RFC 3261 §20.10/§20.20/§20.39 name-addr or addr-spec with header parameters. */
export interface NameAddr {
  /** Display name without quotes and without unescaping; undefined when absent. */
  readonly displayName: string | undefined;
  /** The URI text (inside the angle brackets when there were any). */
  readonly uri: string;
  /** Whether the URI was written in angle brackets. */
  readonly bracketed: boolean;
  /** Header parameters after the URI (`;tag=…`, `;expires=…`). */
  readonly params: Params;
}

/** RFC 3261 §20.42 one Via value. */
export interface Via {
  /** `SIP/2.0`. */
  readonly protocolName: string;
  /** Upper-cased transport token: `UDP`, `TCP`, `TLS`, `WS`, `WSS`, `SCTP`. */
  readonly transport: string;
  /** sent-by host as written (IPv6 with brackets). */
  readonly host: string;
  readonly port: number | undefined;
  readonly branch: string | undefined;
  readonly received: string | undefined;
  /** RFC 3581: undefined = absent, null = present without value, number = filled in. */
  readonly rport: number | null | undefined;
  readonly params: Params;
}

/** RFC 3261 §20.16. */
export interface CSeq {
  readonly seq: number;
  /** Method as written (methods are case-sensitive, §7.1). */
  readonly method: string;
}

/** The RFC 3261 §8.1.1 / §20 headers a message must carry to be processed. */
export const MANDATORY_HEADERS = ['via', 'from', 'to', 'call-id', 'cseq'] as const;
