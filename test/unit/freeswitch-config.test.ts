/**
 * The shipped FreeSWITCH configuration (freeswitch/conf) cannot run here, so these tests read it the
 * way FreeSWITCH does (test/support/media/freeswitch-config.ts) and check what a real carrier and
 * the app need of it. The adapter's tests run channels through the same files (the fake fsmrf).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSettings, loadConfig } from '../../src/config/config.ts';
import { MEDIA_TIMEOUT_HEADER } from '../../src/media/freeswitch/freeswitch-media-server.ts';
import { FS_CONF_DIR, loadShippedFsConfig } from '../support/media/freeswitch-config.ts';

const cfg = loadShippedFsConfig({ env: { FREESWITCH_ESL_PASSWORD: 'from-the-environment' } });
const actions = cfg.fsmrfActions;
const indexOf = (application: string, data?: RegExp): number =>
  actions.findIndex((a) => a.application === application && (data === undefined || data.test(a.data)));
const defaultOf = (env: string): string | undefined => describeSettings().find((s) => s.env === env)?.default;

function allConfFiles(dir = FS_CONF_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allConfFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('freeswitch/conf: what the app and real carriers need', () => {
  it("sets media_timeout from the app's header before answer (the RTP session reads it when it starts)", () => {
    const set = indexOf('set', /^media_timeout=/);
    expect(set).toBeGreaterThanOrEqual(0);
    expect(actions[set]!.data).toBe(`media_timeout=\${sip_h_${MEDIA_TIMEOUT_HEADER}}`);
    expect(set).toBeLessThan(indexOf('answer'));
    expect(indexOf('answer')).toBeLessThan(indexOf('socket'));
  });

  it('forbids SRTP globally, so the offer FreeSWITCH makes to a carrier is plain RTP/AVP', () => {
    expect(cfg.globals.get('rtp_secure_media')).toBe('forbidden');
    // and nothing on the way re-enables it per channel
    expect(actions.some((a) => /^rtp_secure_media/.test(a.data))).toBe(false);
  });

  it('plays prompt fragments back to back and leaves keys to the app', () => {
    const sets = new Map(actions.filter((a) => a.application === 'set').map((a) => [a.data.split('=')[0], a.data.slice(a.data.indexOf('=') + 1)]));
    expect(sets.get('playback_sleep_val')).toBe('0');
    expect(sets.get('playback_terminators')).toBe('none');
    expect(sets.get('sound_prefix')).toBe(cfg.globals.get('softswitch_sounds'));
  });

  it('uses no deprecated profile parameter', () => {
    for (const deprecated of ['rtp-timeout-sec', 'rtp-hold-timeout-sec']) expect(cfg.profile.has(deprecated), deprecated).toBe(false);
  });

  it("allocates RTP from a range that does not overlap the embedded endpoint's default range", () => {
    const [start, end] = cfg.rtpRange;
    const embedded = [Number(defaultOf('MEDIA_RTP_PORT_MIN')), Number(defaultOf('MEDIA_RTP_PORT_MAX'))] as const;
    expect(start).toBeLessThan(end);
    expect(end < embedded[0] || start > embedded[1]).toBe(true);
  });

  it('takes the event-socket password from the environment: no default password in the files', () => {
    expect(cfg.globals.get('esl_password')).toBe('from-the-environment');
    // without the variable: the random core_uuid of that start (fail closed), never a known word
    expect(loadShippedFsConfig({ env: {} }).globals.get('esl_password')).toBe('random-uuid-of-this-start');
    const es = readFileSync(path.join(FS_CONF_DIR, 'autoload_configs/event_socket.conf.xml'), 'utf8');
    expect(es).toContain('value="$${esl_password}"');
    for (const file of allConfFiles()) expect(readFileSync(file, 'utf8'), file).not.toMatch(/ClueCon/i);
    // the app refuses a password under 8 characters; the one FreeSWITCH gets is the app's
    const env = { MEDIA_SERVER: 'freeswitch', PIN_PEPPER: 'p'.repeat(40), SIP_NONCE_KEY: 'n'.repeat(40), DRACHTIO_SECRET: 'drachtio-secret' };
    expect(() => loadConfig({ ...env, FREESWITCH_ESL_PASSWORD: 'ClueCon' })).toThrow(/FREESWITCH_ESL_PASSWORD/);
    expect(() => loadConfig({ ...env, FREESWITCH_ESL_PASSWORD: 'from-the-environment' })).not.toThrow();
  });

  it('puts the prompts where the app looks by default', () => {
    expect(defaultOf('FREESWITCH_SOUNDS_DIR')).toBe(cfg.globals.get('softswitch_sounds'));
  });

  it('loads no module that does not build on FreeSWITCH 1.10.12 against current spandsp (mod_spandsp): DTMF is RFC 2833 in the core', () => {
    expect(cfg.modules).not.toContain('mod_spandsp');
    expect(cfg.profile.get('dtmf-type')).toBe('rfc2833');
    expect(readFileSync(path.join(FS_CONF_DIR, '../README.md'), 'utf8')).toMatch(/mod_spandsp/);
  });

  it('has no X-PRE-PROCESS inside a comment (FreeSWITCH runs those too)', () => {
    for (const file of allConfFiles()) {
      for (const comment of readFileSync(file, 'utf8').matchAll(/<!--[\s\S]*?-->/g)) expect(comment[0], file).not.toContain('X-PRE-PROCESS');
    }
  });
});
