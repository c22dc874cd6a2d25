import { createRequire } from 'node:module';
import dgram from 'node:dgram';
import type { AnswerOptions, CallerDialog, InviteRequest, InviteResponse, MediaServer, MediaSession, RecordingSink, UasFactory } from '../media-port.ts';
import { MissingPromptsError } from '../prompts/prompt-check.ts';
import type { MediaObserver } from '../prompts/prompt-check.ts';
import { FreeSwitchMediaServer } from './freeswitch-media-server.ts';
import type { FsMediaServer } from './fsmrf-types.ts';

export interface FreeSwitchConnection {
  /** FreeSWITCH event socket (inbound ESL). */
  host: string;
  port: number;
  secret: string;
  /** Where this app listens for FreeSWITCH's outbound event-socket connections. */
  listenAddress: string;
  listenPort: number;
  /** The address FreeSWITCH calls back on (default: this process's own address towards FreeSWITCH). */
  advertisedAddress?: string;
  /** The sounds folder as FreeSWITCH sees it. */
  soundsDir: string;
  rtpTimeoutMs: number;
  observer?: MediaObserver;
  /** The recording store FreeSWITCH writes recordings into (a directory it shares with this process). */
  recordings?: RecordingSink;
  onError?: (err: Error) => void;
  /** A fault retrying cannot cure (prompts missing on the FreeSWITCH host): the process should stop. */
  onFatal?: (err: Error) => void;
}

export interface MrfConstructor {
  new (srf: unknown): { connect(opts: Record<string, unknown>): Promise<FsMediaServer> };
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

export function isWildcardAddress(address: string): boolean {
  return WILDCARDS.has(address.trim());
}

/**
 * This process's own address on the route to `host` (a connected UDP socket: nothing is sent).
 * With several app processes behind one service name, each one tells FreeSWITCH its own address.
 */
export async function localAddressTowards(host: string, port: number): Promise<string> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, host, () => resolve());
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}

/**
 * The address FreeSWITCH is told to connect back to (`socket <address>:<port> async full`): the
 * configured one; else the listen address when it names one; else this process's address towards
 * FreeSWITCH. Never a wildcard: FreeSWITCH cannot connect to 0.0.0.0 on another host.
 */
export async function advertisedAddressFor(c: Pick<FreeSwitchConnection, 'advertisedAddress' | 'listenAddress' | 'host' | 'port'>): Promise<string> {
  if (c.advertisedAddress !== undefined && c.advertisedAddress !== '') {
    if (isWildcardAddress(c.advertisedAddress)) throw new Error(`FreeSWITCH cannot connect back to the wildcard address ${c.advertisedAddress}`);
    return c.advertisedAddress;
  }
  if (!isWildcardAddress(c.listenAddress)) return c.listenAddress;
  return localAddressTowards(c.host, c.port);
}

/**
 * The FreeSWITCH media server behind the media port, connected through drachtio-fsmrf. The
 * connection is made at once and retried with backoff; callers arriving before it is up wait
 * for it (and get 503 from the SIP side if it fails). Once connected, the prompt catalogue is
 * checked on the FreeSWITCH host: a missing prompt is fatal (onFatal), not retried.
 */
export function connectFreeSwitch(
  srf: UasFactory,
  c: FreeSwitchConnection,
  Mrf: MrfConstructor = createRequire(import.meta.url)('drachtio-fsmrf') as MrfConstructor,
): MediaServer {
  const mrf = new Mrf(srf);
  let server: FreeSwitchMediaServer | undefined;
  let closed = false;
  let attempt = 0;
  const connect = async (): Promise<FreeSwitchMediaServer> => {
    for (;;) {
      try {
        const ms = await mrf.connect({
          address: c.host,
          port: c.port,
          secret: c.secret,
          listenAddress: c.listenAddress,
          listenPort: c.listenPort,
          advertisedAddress: await advertisedAddressFor(c),
        });
        const candidate = new FreeSwitchMediaServer({
          ms,
          uas: srf,
          soundsDir: c.soundsDir,
          rtpTimeoutMs: c.rtpTimeoutMs,
          ...(c.observer ? { observer: c.observer } : {}),
          ...(c.recordings ? { recordings: c.recordings } : {}),
        });
        await candidate.checkPrompts();
        server = candidate;
        return server;
      } catch (err) {
        if (err instanceof MissingPromptsError) {
          c.onFatal?.(err);
          throw err;
        }
        c.onError?.(err as Error);
        if (closed) throw err;
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** Math.min(attempt++, 5))));
      }
    }
  };
  const ready = connect();
  ready.catch(() => undefined);
  return {
    async answer(req: InviteRequest, res: InviteResponse, opts?: AnswerOptions): Promise<MediaSession> {
      return (server ?? (await ready)).answer(req, res, opts);
    },
    async answerOffer(offer: string, acknowledge: (localSdp: string) => Promise<CallerDialog>, opts?: Pick<AnswerOptions, 'language'>): Promise<MediaSession> {
      return (server ?? (await ready)).answerOffer(offer, acknowledge, opts);
    },
    async open(offer: string, opts?: AnswerOptions): Promise<{ session: MediaSession; localSdp: string }> {
      return (server ?? (await ready)).open(offer, opts);
    },
    get sessionCount() {
      return server?.sessionCount ?? 0;
    },
    async close() {
      closed = true;
      await server?.close();
    },
  };
}
