import { describe, expect, it } from 'vitest';
import { FreeSwitchMediaServer, fsFiles, fsFileString } from '../../src/media/freeswitch/freeswitch-media-server.ts';
import type { Prompt } from '../../src/media/media-port.ts';
import { fakeInvite } from '../support/media/fake-dialog.ts';
import { FakeFsMediaServer } from '../support/media/fake-fsmrf.ts';
import type { FakeFsEndpoint } from '../support/media/fake-fsmrf.ts';
import { mediaPortContract } from '../support/media/media-port-contract.ts';
import type { MediaHarness } from '../support/media/media-port-contract.ts';

const SOUNDS = '/usr/share/freeswitch/sounds/softswitch';

function toPrompt(file: string): Prompt {
  const silence = /^silence_stream:\/\/(\d+)$/.exec(file);
  if (silence !== null) return { silenceMs: Number(silence[1]) };
  const m = new RegExp(`^${SOUNDS}/en/prepaid/(.+)\\.wav$`).exec(file);
  if (m === null) throw new Error(`unexpected file ${file}`);
  return m[1] as Prompt;
}

async function fsHarness(): Promise<MediaHarness & { fake: FakeFsMediaServer }> {
  const fake = new FakeFsMediaServer(60);
  const server = new FreeSwitchMediaServer({ ms: fake, soundsDir: SOUNDS, rtpTimeoutMs: 20_000 });
  return {
    server,
    fake,
    async call() {
      const { req, res } = fakeInvite('v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0 101\r\n');
      const session = await server.answer(req, res);
      const ep = fake.endpoints.at(-1) as FakeFsEndpoint;
      const dialog = fake.dialogs.at(-1);
      if (dialog === undefined) throw new Error('no dialog');
      let consumed = 0;
      return {
        session,
        caller: {
          press(keys) {
            for (const k of keys) ep.press(k);
          },
          info(key) {
            dialog.info(key === '2' ? 'application/dtmf' : 'application/dtmf-relay', key === '2' ? '2' : `Signal=${key}\r\nDuration=160\r\n`);
          },
          expectHeard(prompts) {
            const heard = ep.heard.slice(consumed).map(toPrompt);
            consumed = ep.heard.length;
            expect(heard).toEqual(prompts);
            return Promise.resolve();
          },
          hangup() {
            dialog.hangup();
          },
          get dialogDestroyed() {
            return dialog.destroyed;
          },
          carrierAnswer() {
            return Promise.resolve('v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 5000 RTP/AVP 0\r\n');
          },
        },
      };
    },
    close: () => server.close(),
  };
}

mediaPortContract('FreeSWITCH adapter (fake drachtio-fsmrf)', fsHarness);

describe('FreeSWITCH adapter: what it asks of FreeSWITCH', () => {
  it('maps prompts to files under the sounds folder, silence to silence_stream, lists to file_string', () => {
    expect(fsFiles('/s', 'en', ['welcome', { silenceMs: 300 }, 'numbers/12'])).toEqual([
      '/s/en/prepaid/welcome.wav',
      'silence_stream://300',
      '/s/en/prepaid/numbers/12.wav',
    ]);
    expect(fsFileString(['/a.wav', '/b.wav'])).toBe('file_string:///a.wav!/b.wav');
    expect(fsFileString(['/a.wav'])).toBe('/a.wav');
  });

  it('sets media_timeout on answer, bridges with uuid_bridge, warns with uuid_broadcast to the caller leg, parks on release', async () => {
    const h = await fsHarness();
    const { session } = await h.call();
    const caller = h.fake.endpoints[0] as FakeFsEndpoint;
    expect(caller.vars.get('media_timeout')).toBe('20000');
    const leg = await session.createLeg();
    const outbound = h.fake.endpoints[1] as FakeFsEndpoint;
    expect(leg.localSdp).toBe(outbound.local.sdp);
    await leg.setRemoteSdp('v=0\r\nm=audio 6000 RTP/AVP 0\r\n');
    expect(outbound.remoteSdp).toContain('6000');
    await session.bridge(leg);
    expect(caller.bridgedWith).toBe(outbound);
    await session.inject(['one-minute-remaining', 'tones/beep']);
    expect(caller.broadcasts).toEqual([`file_string://${SOUNDS}/en/prepaid/one-minute-remaining.wav!${SOUNDS}/en/prepaid/tones/beep.wav aleg`]);
    await session.release();
    expect(caller.bridgedWith).toBeUndefined();
    expect(outbound.destroyed).toBe(true);
    await h.close();
    expect(caller.destroyed).toBe(true);
  });

  it('INFO keys enter FreeSWITCH with uuid_recv_dtmf', async () => {
    const h = await fsHarness();
    const { session, caller } = await h.call();
    caller.info('5');
    const ep = h.fake.endpoints[0] as FakeFsEndpoint;
    expect(ep.apis).toContain(`uuid_recv_dtmf ${ep.uuid} 5`);
    await session.destroy();
  });

  it('FreeSWITCH hanging up for MEDIA_TIMEOUT reports rtp-timeout, then ends the session', async () => {
    const h = await fsHarness();
    const { session } = await h.call();
    const seen: string[] = [];
    session.on('rtp-timeout', (e) => seen.push(`timeout:${e.leg}`));
    const ended = new Promise<void>((resolve) =>
      session.on('ended', (e) => {
        seen.push(`ended:${e.reason}`);
        resolve();
      }),
    );
    (h.fake.endpoints[0] as FakeFsEndpoint).hangupFromServer('MEDIA_TIMEOUT');
    await ended;
    expect(seen).toEqual(['timeout:caller', 'ended:media-server-hangup']);
    expect(h.fake.dialogs[0]?.destroyed).toBe(true);
    await h.close();
  });
});
