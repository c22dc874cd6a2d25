/**
 * Reading a docker-compose file the way Compose does, for the tests that keep the compose files
 * honest without a Docker engine (test/unit/docker-compose*.test.ts): variable interpolation, and
 * the parts of a service those tests look at.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { preprocessVariables } from './media/freeswitch-config.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const readRepoFile = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

/** Compose interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
export function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (m, name: string | undefined, colon: string, op: string, arg: string) => {
    if (m === '$$') return '$';
    const v = env[name!];
    const unset = v === undefined || (colon === ':' && v === '');
    if (!op) return v ?? '';
    if (op === '-') return unset ? arg : v!;
    if (unset) throw new Error(`required variable ${name}: ${arg}`);
    return v!;
  });
}

export interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  volumes?: string[];
  configs?: { source: string; target: string }[];
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
  network_mode?: string;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}
export interface ComposeFile {
  services: Record<string, Service>;
  configs?: Record<string, { content?: string; file?: string }>;
  networks?: Record<string, { ipam?: { config?: { subnet: string; gateway?: string; ip_range?: string }[] } }>;
  volumes?: Record<string, unknown>;
}

/** A compose file of the repository, interpolated with `env` and parsed (YAML merge keys applied). */
export function loadCompose(file: string, env: Record<string, string>): { raw: string; compose: ComposeFile } {
  const raw = readRepoFile(file);
  return { raw, compose: parse(interpolate(raw, env), { merge: true }) as ComposeFile };
}

export const commandOf = (s: Service): string[] => (Array.isArray(s.command) ? s.command : (s.command ?? '').split(/\s+/).filter(Boolean));
export const envOf = (s: Service): Record<string, string> => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
/** The repository file a service running this repository's code starts (src/….ts), if any. */
export const entryOf = (s: Service): string | undefined => commandOf(s).find((c) => c.startsWith('src/') && c.endsWith('.ts'));
export const ipOf = (s: Service) =>
  Array.isArray(s.networks) || !s.networks ? undefined : Object.values(s.networks).find((n) => n?.ipv4_address)?.ipv4_address;
export const argAfter = (args: string[], flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipv4ToInt(base!) / size) * size;
  return ipv4ToInt(ip) >= start && ipv4ToInt(ip) < start + size;
}
/** The variables a FreeSWITCH vars file sets (`set`, `exec-set … printenv NAME` read from `env`). */
export function freeswitchVars(xml: string, env: Record<string, string | undefined> = {}): Map<string, string> {
  return preprocessVariables(xml, env);
}
/** Host paths of bind mounts (./x:/y[:ro]). */
export function bindMounts(s: Service): { source: string; target: string }[] {
  return (s.volumes ?? [])
    .filter((v) => v.startsWith('./'))
    .map((v) => {
      const [source, target] = v.split(':');
      return { source: source!, target: target! };
    });
}
