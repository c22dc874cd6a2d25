/**
 * docker-compose.yml cannot run here (no Docker engine), so this test keeps it honest: it parses
 * the file, applies Compose's variable interpolation with a sample .env, and checks every service
 * against what the code, the mounted files and the other services expect.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSettings, loadConfig } from '../../src/config/config.ts';
import { advertisedAddressFor, isWildcardAddress } from '../../src/media/freeswitch/connect-freeswitch.ts';
import {
  ROOT,
  argAfter,
  bindMounts,
  commandOf,
  envOf,
  freeswitchVars,
  inCidr,
  interpolate,
  ipOf,
  loadCompose,
  readRepoFile as read,
} from '../support/compose-file.ts';
import type { Service } from '../support/compose-file.ts';

/** A sample .env: every secret docker-compose.yml asks for. */
const SAMPLE_ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-secret-for-the-test',
  PIN_PEPPER: 'p'.repeat(40),
  SIP_NONCE_KEY: 'n'.repeat(40),
  DRACHTIO_SECRET: 'drachtio-secret-for-the-test',
  FREESWITCH_ESL_PASSWORD: 'esl-secret-for-the-test',
  SIP_PUBLIC_IP: '203.0.113.7',
};

const { raw: RAW, compose } = loadCompose('docker-compose.yml', SAMPLE_ENV);
const services = compose.services;
const settings = describeSettings();
const settingNames = new Set(settings.map((s) => s.env));

/** Services running this repository's code (the image built from the Dockerfile). */
const appServices = Object.entries(services).filter(([, s]) => commandOf(s).some((c) => c.startsWith('src/') && c.endsWith('.ts')));
const entryOf = (s: Service) => commandOf(s).find((c) => c.startsWith('src/'))!;
const sipApps = appServices.filter(([, s]) => entryOf(s) === 'src/main.ts' && envOf(s).SIP_ENABLED === 'true');

describe('docker-compose.yml', () => {
  it('has the production topology: drachtio-server, FreeSWITCH, Redis, Postgres, SIP app, ledger writer, API', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'app', 'drachtio', 'freeswitch', 'ledger', 'postgres', 'redis']);
    expect(services.drachtio!.image).toMatch(/^drachtio\/drachtio-server:/);
    expect(services.freeswitch!.image).toMatch(/^drachtio\/drachtio-freeswitch-mrf:/);
    expect(services.redis!.image).toMatch(/^redis:/);
    expect(services.postgres!.image).toMatch(/^postgres:/);
    expect(entryOf(services.app!)).toBe('src/main.ts');
    expect(entryOf(services.ledger!)).toBe('src/main.ts');
    expect(entryOf(services.api!)).toBe('src/api/api-main.ts');
  });

  it('pins every third-party image to a version (no latest, no untagged image)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build !== undefined) continue;
      expect(s.image, `${name} has no image`).toBeTruthy();
      const tag = s.image!.split(':')[1];
      expect(tag, `${name}: ${s.image} is not pinned`).toMatch(/\d/);
      expect(tag).not.toBe('latest');
    }
  });

  it('gives every service a healthcheck and starts the apps only after what they need is healthy', () => {
    for (const [name, s] of Object.entries(services)) expect(s.healthcheck?.test, `${name} has no healthcheck`).toBeTruthy();
    for (const [name, s] of appServices) {
      expect(s.depends_on?.redis?.condition, name).toBe('service_healthy');
      expect(s.depends_on?.postgres?.condition, name).toBe('service_healthy');
    }
    for (const [name, s] of sipApps) {
      expect(s.depends_on?.drachtio?.condition, name).toBe('service_healthy');
      expect(s.depends_on?.freeswitch?.condition, name).toBe('service_healthy');
    }
  });

  it('runs Redis with the append-only file, fsync every second, on a volume', () => {
    const args = commandOf(services.redis!);
    expect(argAfter(args, '--appendonly')).toBe('yes');
    expect(argAfter(args, '--appendfsync')).toBe('everysec');
    expect(services.redis!.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
    expect(services.postgres!.volumes?.some((v) => v.endsWith(':/var/lib/postgresql/data'))).toBe(true);
  });

  it('sets, in every app service, only variables the app reads', () => {
    expect(appServices.length).toBe(3);
    for (const [name, s] of appServices) {
      for (const key of Object.keys(envOf(s))) expect(settingNames.has(key), `${name}: ${key} is not a setting in src/config/config.ts`).toBe(true);
    }
  });

  it('sets, in every app service, every required setting, and the result passes the configuration check', () => {
    const required = settings.filter((s) => s.default === undefined).map((s) => s.env);
    expect(required.length).toBeGreaterThan(0);
    for (const [name, s] of appServices) {
      const env = envOf(s);
      for (const r of required) expect(env[r], `${name} does not set ${r}`).toBeTruthy();
      expect(() => loadConfig(env), name).not.toThrow();
    }
  });

  it('takes every secret from .env: nothing starts without them, and none is written in the file', () => {
    for (const key of Object.keys(SAMPLE_ENV)) {
      const rest = { ...SAMPLE_ENV };
      delete rest[key];
      expect(() => interpolate(RAW, rest), `${key} should be required`).toThrow(new RegExp(key));
      if (key !== 'SIP_PUBLIC_IP') expect(RAW).not.toContain(SAMPLE_ENV[key]);
    }
    const dockerignore = read('.dockerignore').split('\n');
    expect(dockerignore).toContain('.env');
  });

  it('points the SIP app at the drachtio service with its admin port and secret', () => {
    const drachtio = commandOf(services.drachtio!);
    expect(sipApps.map(([n]) => n)).toEqual(['app']);
    for (const [name, s] of sipApps) {
      const env = envOf(s);
      expect(env.DRACHTIO_HOST, name).toBe('drachtio');
      expect(env.DRACHTIO_PORT, name).toBe(argAfter(drachtio, '--port'));
      expect(env.DRACHTIO_SECRET, name).toBe(argAfter(drachtio, '--secret'));
      expect(env.DRACHTIO_SECRET).toBe(SAMPLE_ENV.DRACHTIO_SECRET);
    }
    // the ledger writer runs the same code without SIP
    expect(envOf(services.ledger!).SIP_ENABLED).toBe('false');
  });

  it('points the SIP app at FreeSWITCH for media, with the event-socket password FreeSWITCH is given', () => {
    const sounds = bindMounts(services.freeswitch!).find((m) => m.source === './freeswitch/sounds');
    for (const [name, s] of sipApps) {
      const env = envOf(s);
      expect(env.MEDIA_SERVER, name).toBe('freeswitch');
      expect(env.FREESWITCH_HOST, name).toBe('freeswitch');
      expect(env.FREESWITCH_ESL_PASSWORD, name).toBe(SAMPLE_ENV.FREESWITCH_ESL_PASSWORD);
      expect(env.FREESWITCH_SOUNDS_DIR, name).toBe(sounds?.target);
    }
  });

  it('has each app replica advertise its own address to FreeSWITCH, never the shared service name or a wildcard', async () => {
    const names = new Set(Object.keys(services));
    for (const [name, s] of sipApps) {
      const env = envOf(s);
      // `--scale app=2`: a service name resolves to any replica, so FreeSWITCH's outbound socket could reach the wrong one
      expect(env.FREESWITCH_ADVERTISED_ADDRESS, `${name} must not advertise a fixed address`).toBeUndefined();
      expect(ipOf(s), `${name} must not have a fixed address (it is scaled)`).toBeUndefined();
      expect(isWildcardAddress(env.FREESWITCH_LISTEN_ADDRESS ?? '')).toBe(true);
      // what the process tells FreeSWITCH then: its own address on the route to FreeSWITCH (here: loopback)
      const advertised = await advertisedAddressFor({
        listenAddress: env.FREESWITCH_LISTEN_ADDRESS!,
        host: '127.0.0.1',
        port: Number(env.FREESWITCH_ESL_PORT),
      });
      expect(advertised).toBe('127.0.0.1');
      expect(names.has(advertised)).toBe(false);
    }
    // and the event-socket ACL admits every address a replica can get
    const vars = freeswitchVars(compose.configs!['freeswitch-vars']!.content!);
    const range = compose.networks!.voip!.ipam!.config![0]!.ip_range!;
    expect(inCidr(range.split('/')[0]!, vars.get('app_cidr')!)).toBe(true);
  });

  it('starts drachtio-server with the mounted sip-config, SIP on 5060 UDP and TCP, and the public address', () => {
    const s = services.drachtio!;
    const args = commandOf(s);
    expect(args[0]).toBe('drachtio');
    const conf = argAfter(args, '-f')!;
    const mount = bindMounts(s).find((m) => m.target === conf);
    expect(mount, `${conf} is not mounted`).toBeDefined();
    expect(mount!.source).toBe('./sip-config/drachtio.conf.xml');
    expect(argAfter(args, '--contact')).toBe('sip:*:5060;transport=udp,tcp');
    expect(argAfter(args, '--external-ip')).toBe(SAMPLE_ENV.SIP_PUBLIC_IP);
    expect(s.ports).toEqual(expect.arrayContaining(['5060:5060/udp', '5060:5060/tcp']));
    // the admin port stays on the private network
    expect((s.ports ?? []).some((p) => p.includes('9022'))).toBe(false);
    // the entrypoint passes arguments on word-split: none may contain a space
    for (const a of args) expect(a).not.toMatch(/\s/);
  });

  it('keeps no secret in sip-config/drachtio.conf.xml and listens for apps on every container address', () => {
    const xml = read('sip-config/drachtio.conf.xml');
    expect(xml).toMatch(/<drachtio>[\s\S]*<\/drachtio>/);
    expect(xml).not.toMatch(/secret\s*=/);
    expect(xml).toMatch(/<admin[^>]*>0\.0\.0\.0<\/admin>/);
  });

  it('gives FreeSWITCH the repository configuration, prompts, and addresses that match the network', () => {
    const s = services.freeswitch!;
    const mounts = bindMounts(s);
    const conf = mounts.find((m) => m.source === './freeswitch/conf');
    expect(conf?.target).toBe('/usr/local/freeswitch/conf');
    expect(argAfter(commandOf(s), '-conf')).toBe(conf!.target);
    const fsEnv = envOf(s);
    const base = freeswitchVars(read('freeswitch/conf/vars.xml'), fsEnv);
    const cfg = s.configs?.find((c) => c.target === `${conf!.target}/vars.xml`);
    expect(cfg, 'vars.xml override').toBeDefined();
    const vars = freeswitchVars(compose.configs![cfg!.source]!.content!, fsEnv);
    // the override sets every variable the repository's configuration uses, and no other
    expect([...vars.keys()].sort()).toEqual([...base.keys()].sort());

    const fsIp = ipOf(s)!;
    const drachtioIp = ipOf(services.drachtio!)!;
    const subnet = compose.networks!.voip!.ipam!.config![0]!;
    expect(vars.get('mrf_sip_ip')).toBe(fsIp);
    expect(vars.get('mrf_rtp_ip')).toBe(fsIp);
    expect(vars.get('mrf_ext_rtp_ip')).toBe(SAMPLE_ENV.SIP_PUBLIC_IP); // callers are told the public address
    expect(inCidr(drachtioIp, vars.get('drachtio_cidr')!)).toBe(true);
    expect(inCidr(ipOf(services.redis!) ?? '172.28.0.200', vars.get('drachtio_cidr')!)).toBe(false);
    // the app services get dynamic addresses from ip_range: all must be allowed on the event socket
    const [rangeBase] = subnet.ip_range!.split('/');
    expect(inCidr(rangeBase!, vars.get('app_cidr')!)).toBe(true);
    expect(inCidr(fsIp, subnet.subnet) && inCidr(drachtioIp, subnet.subnet)).toBe(true);
    expect(inCidr(fsIp, subnet.ip_range!) || inCidr(drachtioIp, subnet.ip_range!)).toBe(false);
    // the event-socket password reaches FreeSWITCH from its environment, never written into a file
    expect(vars.get('esl_password')).toBe(SAMPLE_ENV.FREESWITCH_ESL_PASSWORD);
    expect(base.get('esl_password')).toBe(SAMPLE_ENV.FREESWITCH_ESL_PASSWORD);
    expect(compose.configs![cfg!.source]!.content!).not.toContain(SAMPLE_ENV.FREESWITCH_ESL_PASSWORD);
    // prompts where the configuration says they are
    const sounds = mounts.find((m) => m.source === './freeswitch/sounds');
    expect(sounds?.target).toBe(vars.get('softswitch_sounds'));
    // the published RTP range is the one FreeSWITCH allocates from
    const sw = read('freeswitch/conf/autoload_configs/switch.conf.xml');
    const start = /rtp-start-port" value="(\d+)"/.exec(sw)![1];
    const end = /rtp-end-port" value="(\d+)"/.exec(sw)![1];
    expect(s.ports).toContain(`${start}-${end}:${start}-${end}/udp`);
    // the media-server SIP port and the event socket are not published
    expect((s.ports ?? []).some((p) => /(^|:)(5080|8021)(\/|$)/.test(p))).toBe(false);
  });

  it('mounts only files and folders that exist in the repository', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const m of bindMounts(s)) expect(existsSync(path.join(ROOT, m.source)), `${name}: ${m.source}`).toBe(true);
    }
    expect(statSync(path.join(ROOT, 'freeswitch/conf')).isDirectory()).toBe(true);
  });

  it('builds the app image with what the commands run, and publishes the ports the app listens on', () => {
    const dockerfile = read('Dockerfile');
    for (const dir of ['src', 'migrations', 'bin']) expect(dockerfile).toMatch(new RegExp(`^COPY ${dir} `, 'm'));
    for (const [name, s] of appServices) {
      expect(s.build, name).toBe('.');
      expect(existsSync(path.join(ROOT, entryOf(s))), `${name}: ${entryOf(s)}`).toBe(true);
    }
    const api = envOf(services.api!);
    expect(services.api!.ports).toContain(`${api.API_PORT}:${api.API_PORT}`);
    expect(api.API_HOST).toBe('0.0.0.0');
    for (const [name, s] of appServices) {
      const env = envOf(s);
      const port = entryOf(s) === 'src/main.ts' ? env.HTTP_PORT : env.API_PORT;
      expect(s.healthcheck!.test.join(' '), name).toContain(`127.0.0.1:${port}/`);
    }
  });
});
