/**
 * docker-compose.cluster.yml (Kamailio in front of two drachtio-servers, an app replica per server,
 * a six-node Redis Cluster) cannot run here (no Docker engine). This test keeps it honest the way
 * docker-compose.test.ts keeps the single-host file: it interpolates the file with a sample .env and
 * checks each service against the code, the mounted files and the other services; Kamailio's part
 * is also given to the real Kamailio (`kamailio -c`) when it is installed.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeSettings, loadConfig } from '../../src/config/config.ts';
import {
  ROOT,
  argAfter,
  bindMounts,
  commandOf,
  entryOf,
  envOf,
  freeswitchVars,
  inCidr,
  interpolate,
  ipOf,
  loadCompose,
  readRepoFile,
} from '../support/compose-file.ts';
import type { Service } from '../support/compose-file.ts';

const FILE = 'docker-compose.cluster.yml';
const HOST_IP = '198.51.100.4';
const PUBLIC_IP = '203.0.113.7';
const SAMPLE_ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-secret-for-the-test',
  PIN_PEPPER: 'p'.repeat(40),
  SIP_NONCE_KEY: 'n'.repeat(40),
  DRACHTIO_SECRET: 'drachtio-secret-for-the-test',
  FREESWITCH_ESL_PASSWORD: 'esl-secret-for-the-test',
  SIP_PUBLIC_IP: PUBLIC_IP,
  SIP_HOST_IP: HOST_IP,
};
const { raw: RAW, compose } = loadCompose(FILE, SAMPLE_ENV);
const services = compose.services;
const settingNames = new Set(describeSettings().map((s) => s.env));
const network = compose.networks!.voip!.ipam!.config![0]!;

const appServices = Object.entries(services).filter(([, s]) => entryOf(s) !== undefined);
const sipApps = appServices.filter(([, s]) => entryOf(s) === 'src/main.ts' && envOf(s).SIP_ENABLED === 'true');
const drachtios = Object.entries(services).filter(([, s]) => s.image?.startsWith('drachtio/drachtio-server:'));
const redisNodes = Object.entries(services).filter(([, s]) => commandOf(s)[0] === 'redis-server');
const oneShot = (s: Service) => s.restart === 'no';
const configContent = (s: Service, target: string) => {
  const ref = s.configs?.find((c) => c.target === target);
  expect(ref, `${target} is not given to the service`).toBeDefined();
  return compose.configs![ref!.source]!.content!;
};
const kamailio = services.kamailio!;
const kamailioLocal = configContent(kamailio, '/etc/kamailio/kamailio-local.cfg');
const dispatcherList = configContent(kamailio, '/etc/kamailio/dispatcher.list');
/** `listen=` sockets of kamailio-local.cfg, the two SS_LISTEN_* substitutions included. */
const kamailioSockets = [
  ...[...kamailioLocal.matchAll(/^#!substdef "!SS_LISTEN_(?:UDP|TCP)!([^!]+)!g"$/gm)].map((m) => m[1]!),
  ...[...kamailioLocal.matchAll(/^listen=(.+)$/gm)].map((m) => m[1]!),
];

describe('docker-compose.cluster.yml', () => {
  it('has the scaled-out topology: Kamailio, two drachtio-servers with an app each, six Redis Cluster nodes, FreeSWITCH, Postgres, ledger, API', () => {
    expect(drachtios.map(([n]) => n).sort()).toEqual(['drachtio-a', 'drachtio-b']);
    expect(sipApps.map(([n]) => n).sort()).toEqual(['app-a', 'app-b']);
    expect(redisNodes.length).toBe(6);
    for (const name of ['kamailio', 'freeswitch', 'postgres', 'ledger', 'api', 'redis-cluster-init']) expect(services[name], name).toBeDefined();
    expect(entryOf(services.ledger!)).toBe('src/main.ts');
    expect(envOf(services.ledger!).SIP_ENABLED).toBe('false');
    expect(entryOf(services.api!)).toBe('src/api/api-main.ts');
    // no single Redis: every process of this file works on the cluster
    expect(Object.values(services).some((s) => s.image?.startsWith('redis:') && !commandOf(s).includes('--cluster-enabled') && !oneShot(s))).toBe(false);
  });

  it('pins every third-party image, gives every long-running service a healthcheck, and builds Kamailio from Debian’s package', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build === undefined) {
        const tag = s.image?.split(':')[1];
        expect(tag, `${name}: ${s.image} is not pinned`).toMatch(/\d/);
      }
      if (!oneShot(s)) expect(s.healthcheck?.test, `${name} has no healthcheck`).toBeTruthy();
    }
    const dockerfile = readRepoFile('sip-config/kamailio/Dockerfile');
    expect(dockerfile).toMatch(/^FROM debian:bookworm/m);
    expect(dockerfile).toMatch(/apt-get install[^\n]*\bkamailio\b/);
  });

  it('runs every Redis node in cluster mode with the append-only file fsynced every second, each on its own volume and address', () => {
    const addresses = new Set<string>();
    const volumes = new Set<string>();
    for (const [name, s] of redisNodes) {
      const args = commandOf(s);
      expect(argAfter(args, '--cluster-enabled'), name).toBe('yes');
      expect(argAfter(args, '--appendonly'), name).toBe('yes');
      expect(argAfter(args, '--appendfsync'), name).toBe('everysec');
      expect(argAfter(args, '--cluster-config-file'), name).toMatch(/^\/data\//);
      expect(s.volumes?.length, name).toBe(1);
      expect(s.volumes![0]!.endsWith(':/data'), name).toBe(true);
      volumes.add(s.volumes![0]!);
      addresses.add(`${ipOf(s)}:${argAfter(args, '--port')}`);
    }
    expect(addresses.size).toBe(6);
    expect(volumes.size).toBe(6);
    // the one-shot creates the cluster from exactly these nodes, one replica per primary, and waits for all of them
    const init = services['redis-cluster-init']!;
    const script = commandOf(init).join(' ');
    const created = /--cluster create ((?:\S+:\d+\s+)+)--cluster-replicas (\d+)/.exec(script);
    expect(created, script).not.toBeNull();
    expect(new Set(created![1]!.trim().split(/\s+/))).toEqual(addresses);
    expect(created![2]).toBe('1');
    expect(script).toContain('--cluster-yes');
    for (const [name] of redisNodes) expect(init.depends_on?.[name]?.condition, name).toBe('service_healthy');
  });

  it('gives every app process the whole cluster, only settings the app reads, and starts it once the cluster is formed', () => {
    const nodes = new Set(redisNodes.map(([, s]) => `${ipOf(s)}:${argAfter(commandOf(s), '--port')}`));
    expect(appServices.length).toBe(4);
    const required = describeSettings()
      .filter((s) => s.default === undefined)
      .map((s) => s.env);
    for (const [name, s] of appServices) {
      const env = envOf(s);
      for (const key of Object.keys(env)) expect(settingNames.has(key), `${name}: ${key} is not a setting in src/config/config.ts`).toBe(true);
      for (const r of required) expect(env[r], `${name} does not set ${r}`).toBeTruthy();
      expect(env.REDIS_URL, `${name} must not name a single Redis`).toBeUndefined();
      expect(new Set(env.REDIS_CLUSTER_NODES!.split(',')), name).toEqual(nodes);
      expect(() => loadConfig(env), name).not.toThrow();
      expect(s.depends_on?.['redis-cluster-init']?.condition, name).toBe('service_completed_successfully');
      expect(s.depends_on?.postgres?.condition, name).toBe('service_healthy');
    }
  });

  it('connects each SIP app to a drachtio-server of its own, with that server’s admin port and secret', () => {
    const hosts = sipApps.map(([, s]) => envOf(s).DRACHTIO_HOST);
    expect(hosts.sort()).toEqual(drachtios.map(([n]) => n).sort());
    for (const [name, s] of sipApps) {
      const env = envOf(s);
      const server = commandOf(services[env.DRACHTIO_HOST!]!);
      expect(env.DRACHTIO_PORT, name).toBe(argAfter(server, '--port'));
      expect(env.DRACHTIO_SECRET, name).toBe(argAfter(server, '--secret'));
      expect(s.depends_on?.[env.DRACHTIO_HOST!]?.condition, name).toBe('service_healthy');
      expect(ipOf(s), `${name} must not have a fixed address`).toBeUndefined();
      expect(env.FREESWITCH_ADVERTISED_ADDRESS, name).toBeUndefined();
    }
  });

  it('puts Kamailio alone on port 5060: the SIP servers publish nothing and are reached only through it', () => {
    expect(kamailio.network_mode).toBe('host');
    for (const [name, s] of Object.entries(services)) {
      if (name === 'kamailio') continue;
      expect(
        (s.ports ?? []).some((p) => /(^|:)5060(\/|$)/.test(p)),
        `${name} publishes 5060`,
      ).toBe(false);
    }
    for (const [name, s] of drachtios) {
      expect(s.ports ?? [], name).toEqual([]);
      expect(argAfter(commandOf(s), '--contact'), name).toBe('sip:*:5060;transport=udp,tcp');
      expect(bindMounts(s).find((m) => m.target === argAfter(commandOf(s), '-f'))?.source, name).toBe('./sip-config/drachtio.conf.xml');
    }
    // the shipped configuration, mounted as it is
    expect(bindMounts(kamailio)).toContainEqual({ source: './sip-config/kamailio/kamailio.cfg', target: argAfter(commandOf(kamailio), '-f') });
  });

  it("dispatches to exactly the drachtio-servers' addresses and listens on the network's gateway, which every SIP app trusts as its proxy", () => {
    const listed = dispatcherList
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const m = /^1 sip:([\d.]+):(\d+);transport=udp$/.exec(l.trim());
        expect(m, l).not.toBeNull();
        return `${m![1]}:${m![2]}`;
      });
    expect(listed.sort()).toEqual(drachtios.map(([, s]) => `${ipOf(s)}:5060`).sort());
    const gateway = network.gateway!;
    expect(inCidr(gateway, network.subnet)).toBe(true);
    expect(kamailioSockets).toEqual(expect.arrayContaining([`udp:${gateway}:5060`, `tcp:${gateway}:5060`]));
    // the public side: the host's address, advertised as the public one
    expect(kamailioSockets).toEqual(
      expect.arrayContaining([`udp:${HOST_IP}:5060 advertise ${PUBLIC_IP}:5060`, `tcp:${HOST_IP}:5060 advertise ${PUBLIC_IP}:5060`]),
    );
    expect(kamailioLocal).toMatch(/^mhomed=1$/m);
    for (const [name, s] of sipApps) expect(envOf(s).SIP_TRUSTED_PROXIES?.split(','), name).toContain(gateway);
    expect(kamailio.healthcheck!.test.join(' ')).toContain(`${gateway}/5060`);
  });

  it.skipIf(!existsSync('/usr/sbin/kamailio'))('gives Kamailio a configuration it accepts, with both sides as sockets', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kamailio-compose-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    copyFileSync(path.join(ROOT, 'sip-config/kamailio/kamailio.cfg'), path.join(dir, 'kamailio.cfg'));
    writeFileSync(path.join(dir, 'dispatcher.list'), dispatcherList);
    writeFileSync(path.join(dir, 'kamailio-local.cfg'), kamailioLocal.replace('/etc/kamailio/dispatcher.list', path.join(dir, 'dispatcher.list')));
    const check = spawnSync('kamailio', ['-c', '-f', path.join(dir, 'kamailio.cfg')], { encoding: 'utf8', timeout: 20_000 });
    const out = `${check.stdout}${check.stderr}`;
    expect(check.status, out).toBe(0);
    expect(out).toContain('config file ok');
    expect(out).toMatch(new RegExp(`udp: ${HOST_IP.replace(/\./g, '\\.')} \\S+ advertise ${PUBLIC_IP.replace(/\./g, '\\.')}:5060`));
    expect(out).toContain(`udp: ${network.gateway} `);
  });

  it('gives FreeSWITCH addresses that admit both drachtio-servers and every app replica', () => {
    const fs = services.freeswitch!;
    const vars = freeswitchVars(configContent(fs, '/usr/local/freeswitch/conf/vars.xml'), envOf(fs));
    for (const [name, s] of drachtios) expect(inCidr(ipOf(s)!, vars.get('drachtio_cidr')!), name).toBe(true);
    expect(inCidr(network.ip_range!.split('/')[0]!, vars.get('app_cidr')!)).toBe(true);
    for (const name of ['kamailio', 'postgres', 'api']) expect(inCidr(ipOf(services[name]!) ?? '172.29.0.200', vars.get('drachtio_cidr')!), name).toBe(false);
    expect(vars.get('mrf_sip_ip')).toBe(ipOf(fs));
    expect(vars.get('mrf_ext_rtp_ip')).toBe(PUBLIC_IP);
    expect(vars.get('esl_password')).toBe(SAMPLE_ENV.FREESWITCH_ESL_PASSWORD);
    // the fixed addresses are outside the range Docker hands out
    for (const s of [fs, ...drachtios.map(([, d]) => d), ...redisNodes.map(([, r]) => r)]) expect(inCidr(ipOf(s)!, network.ip_range!)).toBe(false);
  });

  it('gives the SIP apps, the API and FreeSWITCH one recordings volume at the path the apps are given', () => {
    const dir = envOf(services['app-a']!).RECORDINGS_DIR!;
    expect(dir).toMatch(/^\//);
    for (const name of ['app-a', 'app-b', 'api', 'freeswitch']) {
      const s = services[name]!;
      if (name !== 'freeswitch') expect(envOf(s).RECORDINGS_DIR, name).toBe(dir);
      expect(s.volumes, name).toContain(`recordings:${dir}`);
    }
    expect(compose.volumes).toHaveProperty('recordings');
  });

  it('takes every secret from .env and mounts only what exists in the repository', () => {
    for (const key of Object.keys(SAMPLE_ENV)) {
      const rest = { ...SAMPLE_ENV };
      delete rest[key];
      expect(() => interpolate(RAW, rest), `${key} should be required`).toThrow(new RegExp(key));
      if (!key.startsWith('SIP_')) expect(RAW).not.toContain(SAMPLE_ENV[key]);
    }
    for (const [name, s] of Object.entries(services)) {
      for (const m of bindMounts(s)) expect(existsSync(path.join(ROOT, m.source)), `${name}: ${m.source}`).toBe(true);
    }
  });
});
