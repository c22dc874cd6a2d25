import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { advertisedAddressFor, connectFreeSwitch } from '../../src/media/freeswitch/connect-freeswitch.ts';
import type { FreeSwitchConnection, MrfConstructor } from '../../src/media/freeswitch/connect-freeswitch.ts';
import { MissingPromptsError } from '../../src/media/prompts/prompt-check.ts';
import { copySounds } from '../support/media/embedded-harness.ts';
import { FakeUas } from '../support/media/fake-dialog.ts';
import { FakeFsMediaServer } from '../support/media/fake-fsmrf.ts';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { PROMPT_NAMES } from '../../src/media/prompts/catalog.ts';

const SOUNDS = '/usr/share/freeswitch/sounds/softswitch';

/** A drachtio-fsmrf Mrf whose connect() records its options and hands out a fake media server. */
function fakeMrf(ms: FakeFsMediaServer): { Mrf: MrfConstructor; connects: Record<string, unknown>[] } {
  const connects: Record<string, unknown>[] = [];
  class Mrf {
    connect(opts: Record<string, unknown>) {
      connects.push(opts);
      return Promise.resolve(ms);
    }
  }
  return { Mrf, connects };
}

const base: FreeSwitchConnection = {
  host: '127.0.0.1',
  port: 8021,
  secret: 'esl-secret',
  listenAddress: '0.0.0.0',
  listenPort: 8085,
  soundsDir: SOUNDS,
  rtpTimeoutMs: 30_000,
};

describe('connecting to FreeSWITCH', () => {
  it('never tells FreeSWITCH to call back on a wildcard: the configured address, the listen address, or our own address towards FreeSWITCH', async () => {
    expect(await advertisedAddressFor({ ...base, advertisedAddress: '10.1.2.3' })).toBe('10.1.2.3');
    expect(await advertisedAddressFor({ ...base, listenAddress: '127.0.0.5' })).toBe('127.0.0.5');
    expect(await advertisedAddressFor(base)).toBe('127.0.0.1');
    await expect(advertisedAddressFor({ ...base, advertisedAddress: '0.0.0.0' })).rejects.toThrow(/wildcard/);
    const env = { PIN_PEPPER: 'p'.repeat(40), SIP_NONCE_KEY: 'n'.repeat(40), DRACHTIO_SECRET: 'drachtio-secret' };
    expect(() => loadConfig({ ...env, FREESWITCH_ADVERTISED_ADDRESS: '0.0.0.0' })).toThrow(/FREESWITCH_ADVERTISED_ADDRESS/);
  });

  it('passes drachtio-fsmrf the derived advertised address, checks the prompts, then answers callers', async () => {
    const local = copySounds();
    try {
      const fake = new FakeFsMediaServer({ sounds: { fsDir: SOUNDS, localDir: local } });
      const { Mrf, connects } = fakeMrf(fake);
      const fatal: Error[] = [];
      const media = connectFreeSwitch(new FakeUas(), { ...base, onFatal: (e) => fatal.push(e) }, Mrf);
      const session = await media.answer({ body: 'v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n', get: () => undefined }, { send: () => undefined });
      expect(connects[0]).toMatchObject({ address: '127.0.0.1', port: 8021, listenAddress: '0.0.0.0', advertisedAddress: '127.0.0.1' });
      expect(fake.apis.filter((a) => a.startsWith('file_exists ')).length).toBe(PROMPT_NAMES.length); // every prompt of the catalogue, once
      expect(fatal).toEqual([]);
      await session.destroy();
      await media.close();
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  });

  it('refuses to go on when FreeSWITCH lacks a prompt: fatal, with the file named, not retried', async () => {
    const local = copySounds();
    try {
      rmSync(path.join(local, 'en/prepaid/welcome.wav'));
      const fake = new FakeFsMediaServer({ sounds: { fsDir: SOUNDS, localDir: local } });
      const { Mrf, connects } = fakeMrf(fake);
      const fatal: Error[] = [];
      const retried: Error[] = [];
      const media = connectFreeSwitch(new FakeUas(), { ...base, onFatal: (e) => fatal.push(e), onError: (e) => retried.push(e) }, Mrf);
      await expect(media.answer({ body: 'v=0\r\n', get: () => undefined }, { send: () => undefined })).rejects.toBeInstanceOf(MissingPromptsError);
      expect(fatal).toHaveLength(1);
      expect(fatal[0]?.message).toMatch(/en\/prepaid\/welcome\.wav/);
      expect(retried).toEqual([]);
      expect(connects).toHaveLength(1);
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  });
});
