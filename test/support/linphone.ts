/**
 * Debian's linphone console client (`linphonec`, package linphone-cli) as a real SIP client in
 * tests: started headless with its own home directory and configuration (no sound card: `.wav`
 * files instead), driven through its standard input, its console output watched for events. Every
 * wait is bounded; on a timeout the error quotes the end of the output.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why linphonec cannot run here, or undefined when it can. */
export function linphoneMissing(): string | undefined {
  const r = spawnSync('linphonec', ['-v'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error)
    return `linphonec is not installed (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install Debian's linphone-cli (scripts/ensure-services.sh does)`;
  return undefined;
}

export interface LinphoneOptions {
  /** UDP and TCP SIP ports of the client (it listens on all addresses). */
  udpPort: number;
  tcpPort: number;
  rtpPort: number;
  /** Answer incoming calls at once. */
  autoAnswer?: boolean;
}

export class Linphone {
  private out = '';
  /** Its home directory: configuration, database, and the SIP log (linphone.log). */
  readonly home: string;
  private readonly child: ChildProcessWithoutNullStreams;
  private exited: Promise<void>;

  private constructor(opts: LinphoneOptions) {
    const home = mkdtempSync(join(tmpdir(), 'linphone-'));
    // without its database directory the core never leaves its start-up state: no listening ports, nothing sent
    mkdirSync(join(home, '.local/share/linphone'), { recursive: true });
    this.home = home;
    const rc = join(home, 'linphonerc');
    writeFileSync(
      rc,
      [
        '[sip]',
        `sip_port=${opts.udpPort}`,
        `sip_tcp_port=${opts.tcpPort}`,
        'sip_tls_port=0',
        'inc_timeout=60',
        '[rtp]',
        `audio_rtp_port=${opts.rtpPort}`,
        '[sound]',
        'echocancellation=0',
        '[net]',
        'firewall_policy=0',
        '[video]',
        'enabled=0',
        '',
      ].join('\n'),
    );
    this.child = spawn('linphonec', ['-c', rc, '-d', '6', '-l', join(home, 'linphone.log'), ...(opts.autoAnswer ? ['-a'] : [])], {
      cwd: home,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C' },
    });
    const take = (b: Buffer) => {
      this.out += b.toString('utf8');
    };
    this.child.stdout.on('data', take);
    this.child.stderr.on('data', take);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  static async start(opts: LinphoneOptions): Promise<Linphone> {
    const l = new Linphone(opts);
    await l.waitFor(/linphonec> /, 15_000);
    // no sound card here: play and record .wav files (silence) instead
    l.send('soundcard use files');
    return l;
  }

  /** Everything the client printed so far. */
  get output(): string {
    return this.out;
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Resolves with the match once the output after `from` (an index into output) matches. */
  waitFor(re: RegExp, timeoutMs = 20_000, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.out.slice(from).match(re);
        if (!m) return false;
        clearInterval(timer);
        clearTimeout(deadline);
        resolve(m);
        return true;
      };
      const timer = setInterval(check, 50);
      const deadline = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`linphonec: no ${re} within ${timeoutMs} ms; output ends:\n${this.out.slice(-2000)}\nits SIP log ends:\n${this.logTail()}`));
      }, timeoutMs);
      check();
    });
  }

  /**
   * Registers (the console prints no event for it: asks `states proxies` until the account is
   * registered) and resolves; rejects when the registration failed or did not end in time.
   */
  async register(identity: string, proxy: string, password: string, timeoutMs = 20_000): Promise<void> {
    this.send(`register ${identity} ${proxy} ${password}`);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const from = this.out.length;
      this.send('states proxies');
      const m = await this.waitFor(/LinphoneRegistration(Ok|Failed|Cleared)/, 5_000, from).catch(() => undefined);
      if (m?.[1] === 'Ok') return;
      if (m && m[1] !== undefined) throw new Error(`linphonec: registration ${m[1]}; its SIP log ends:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`linphonec: not registered within ${timeoutMs} ms; its SIP log ends:\n${this.logTail()}`);
  }

  /** The end of linphone's own log (SIP messages and state changes). */
  logTail(chars = 4000): string {
    const file = join(this.home, 'linphone.log');
    return existsSync(file) ? readFileSync(file, 'utf8').slice(-chars) : '(no log)';
  }

  /** Quits (killed after 5 s) and removes its home directory. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      this.send('quit');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(killer);
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}
