/**
 * Fake drachtio-srf pieces for media tests: a caller dialog that can hang up and send INFO, and a
 * createUAS that records the SDP answer.
 */
import { EventEmitter } from 'node:events';
import type { CallerDialog, InfoRequest, InfoResponse, InviteRequest, InviteResponse, UasFactory } from '../../../src/media/media-port.ts';

export class FakeDialog extends EventEmitter implements CallerDialog {
  destroyed = false;
  infoReplies: number[] = [];
  constructor(readonly localSdp: string) {
    super();
  }
  destroy(): Promise<void> {
    this.destroyed = true;
    return Promise.resolve();
  }
  /** The caller hangs up (BYE). */
  hangup(): void {
    this.destroyed = true;
    this.emit('destroy');
  }
  /** The caller sends INFO. */
  info(contentType: string, body: string): void {
    const req: InfoRequest = { body, get: (n) => (n.toLowerCase() === 'content-type' ? contentType : undefined) };
    const res: InfoResponse = {
      send: (status) => {
        this.infoReplies.push(status);
      },
    };
    this.emit('info', req, res);
  }
}

export class FakeUas implements UasFactory {
  readonly dialogs: FakeDialog[] = [];
  createUAS(_req: InviteRequest, _res: InviteResponse, opts: { localSdp: string }): Promise<FakeDialog> {
    const d = new FakeDialog(opts.localSdp);
    this.dialogs.push(d);
    return Promise.resolve(d);
  }
}

export function fakeInvite(sdp: string | undefined): { req: InviteRequest; res: InviteResponse & { sent: number[] } } {
  const sent: number[] = [];
  return {
    req: { ...(sdp === undefined ? {} : { body: sdp }), get: () => undefined },
    res: {
      sent,
      send: (status: number) => {
        sent.push(status);
      },
    },
  };
}
