/**
 * The shipped FreeSWITCH configuration (freeswitch/conf) read the way FreeSWITCH reads it, for the
 * tests that cannot run FreeSWITCH: the global variables (vars.xml `set` / `exec-set`, switch.conf.xml
 * `<variables>`), the drachtio_mrf dialplan extension's actions, the profile's parameters, the loaded
 * modules and the RTP port range. The fake fsmrf runs a channel through this dialplan, so what the
 * files say is what the adapter's tests see.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const FS_CONF_DIR = path.resolve(import.meta.dirname, '../../../freeswitch/conf');

export interface DialplanAction {
  application: string;
  data: string;
}

export interface FsShippedConfig {
  /** Global variables after the preprocessor: vars.xml `set` and `exec-set`, then switch.conf.xml `<variables>`. */
  globals: Map<string, string>;
  /** The actions of the extension that takes drachtio-fsmrf's INVITEs, in order. */
  fsmrfActions: DialplanAction[];
  /** Parameters of the drachtio_mrf SIP profile (after `$${}` expansion). */
  profile: Map<string, string>;
  /** Modules loaded by modules.conf.xml. */
  modules: string[];
  rtpRange: [number, number];
}

const read = (rel: string): string => readFileSync(path.join(FS_CONF_DIR, rel), 'utf8');

/** Removes XML comments (FreeSWITCH's preprocessor does not honour them for X-PRE-PROCESS, but nothing here is commented out). */
function uncomment(xml: string): string {
  return xml.replace(/<!--[\s\S]*?-->/g, '');
}

/** Variables FreeSWITCH computes before reading vars.xml (the ones the shipped files use). */
const COMPUTED = { core_uuid: 'random-uuid-of-this-start' };

/**
 * `<X-PRE-PROCESS cmd="set|exec-set" data="name=value"/>` in order, as FreeSWITCH 1.10's preprocessor
 * runs them: `set` expands `$${}`; `exec-set` sets the command's output, when there is any (only
 * `printenv NAME` is modelled, reading `env`; any other command fails the test).
 */
export function preprocessVariables(xml: string, env: Record<string, string | undefined>): Map<string, string> {
  const vars = new Map<string, string>(Object.entries(COMPUTED));
  for (const m of uncomment(xml).matchAll(/<X-PRE-PROCESS\s+cmd="([a-z-]+)"\s+data="([^=]+)=([^"]*)"\s*\/>/g)) {
    const [, cmd, name, raw] = m as unknown as [string, string, string, string];
    if (cmd === 'set') vars.set(name, expand(raw, vars));
    else if (cmd === 'exec-set') {
      const printenv = /^printenv ([A-Za-z_][A-Za-z0-9_]*)$/.exec(raw.trim());
      if (printenv === null) throw new Error(`exec-set command not modelled: ${raw}`);
      const value = env[printenv[1]!];
      if (value !== undefined && value !== '') vars.set(name, value);
    } else throw new Error(`X-PRE-PROCESS cmd="${cmd}" is not one FreeSWITCH 1.10 runs as a variable`);
  }
  for (const k of Object.keys(COMPUTED)) vars.delete(k);
  return vars;
}

/** `$${name}` expansion (the preprocessor's); unknown names stay as written, as FreeSWITCH leaves them. */
export function expand(text: string, globals: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$\{([^}]+)\}/g, (m, name: string) => globals.get(name) ?? m);
}

export function loadShippedFsConfig(opts: { varsXml?: string; env?: Record<string, string | undefined> } = {}): FsShippedConfig {
  const env = opts.env ?? { FREESWITCH_ESL_PASSWORD: 'esl-password-for-tests' };
  const globals = preprocessVariables(opts.varsXml ?? read('vars.xml'), env);
  const sw = uncomment(read('autoload_configs/switch.conf.xml'));
  const vars = /<variables>([\s\S]*?)<\/variables>/.exec(sw)?.[1] ?? '';
  for (const m of vars.matchAll(/<variable\s+name="([^"]+)"\s+value="([^"]*)"\s*\/>/g)) globals.set(m[1]!, expand(m[2]!, globals));
  const param = (xml: string, name: string): string | undefined => new RegExp(`<param\\s+name="${name}"\\s+value="([^"]*)"`).exec(xml)?.[1];
  const rtpRange: [number, number] = [Number(param(sw, 'rtp-start-port')), Number(param(sw, 'rtp-end-port'))];

  const dialplan = uncomment(read('dialplan/drachtio_mrf.xml'));
  const ext = /<extension name="drachtio_mrf">([\s\S]*?)<\/extension>/.exec(dialplan)?.[1] ?? '';
  const fsmrfActions = [...ext.matchAll(/<action\s+application="([^"]+)"(?:\s+data="([^"]*)")?\s*\/>/g)].map((m) => ({
    application: m[1]!,
    data: expand(m[2] ?? '', globals),
  }));

  const profileXml = uncomment(read('sip_profiles/drachtio_mrf.xml'));
  const profile = new Map([...profileXml.matchAll(/<param\s+name="([^"]+)"\s+value="([^"]*)"\s*\/>/g)].map((m) => [m[1]!, expand(m[2]!, globals)]));

  const modules = [...uncomment(read('autoload_configs/modules.conf.xml')).matchAll(/<load\s+module="([^"]+)"/g)].map((m) => m[1]!);
  return { globals, fsmrfActions, profile, modules, rtpRange };
}
