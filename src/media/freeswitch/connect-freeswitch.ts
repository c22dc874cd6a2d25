import { createRequire } from 'node:module';
import type { AnswerOptions, InviteRequest, InviteResponse, MediaServer, MediaSession } from '../media-port.ts';
import { FreeSwitchMediaServer } from './freeswitch-media-server.ts';
import type { FsMediaServer } from './fsmrf-types.ts';

export interface FreeSwitchConnection {
  /** FreeSWITCH event socket (inbound ESL). */
  host: string;
  port: number;
  secret: string;
  /** Where this app listens for FreeSWITCH's outbound event-socket connections, and the address FreeSWITCH should use for it. */
  listenAddress: string;
  listenPort: number;
  advertisedAddress?: string;
  /** The sounds folder as FreeSWITCH sees it. */
  soundsDir: string;
  rtpTimeoutMs: number;
  onError?: (err: Error) => void;
}

interface MrfConstructor {
  new (srf: unknown): { connect(opts: Record<string, unknown>): Promise<FsMediaServer> };
}

/**
 * The FreeSWITCH media server behind the media port, connected through drachtio-fsmrf. The
 * connection is made at once and retried with backoff; callers arriving before it is up wait
 * for it (and get 503 from the SIP side if it fails).
 */
export function connectFreeSwitch(srf: unknown, c: FreeSwitchConnection): MediaServer {
  const Mrf = createRequire(import.meta.url)('drachtio-fsmrf') as MrfConstructor;
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
          ...(c.advertisedAddress ? { advertisedAddress: c.advertisedAddress } : {}),
        });
        server = new FreeSwitchMediaServer({ ms, soundsDir: c.soundsDir, rtpTimeoutMs: c.rtpTimeoutMs });
        return server;
      } catch (err) {
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
    get sessionCount() {
      return server?.sessionCount ?? 0;
    },
    async close() {
      closed = true;
      await server?.close();
    },
  };
}
