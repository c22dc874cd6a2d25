/**
 * Command-line parsing for the operator CLI: positional words and `--name=value` / `--flag`
 * options. Every command declares the options it accepts; anything else is a usage error.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  words: string[];
  options: Map<string, string | true>;
  json: boolean;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const words: string[] = [];
  const options = new Map<string, string | true>();
  let json = false;
  let onlyWords = false;
  for (const a of argv) {
    if (onlyWords || !a.startsWith('--') || a === '--') {
      if (a === '--' && !onlyWords) {
        onlyWords = true;
        continue;
      }
      words.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new UsageError(`bad option ${a}`);
    if (name === 'json' && eq < 0) {
      json = true;
      continue;
    }
    if (options.has(name)) throw new UsageError(`--${name} given twice`);
    options.set(name, eq < 0 ? true : a.slice(eq + 1));
  }
  return { words, options, json };
}

/** Options of one command: refuses unknown ones; typed getters with clear messages. */
export class Options {
  constructor(
    private readonly opts: Map<string, string | true>,
    allowed: readonly string[],
  ) {
    for (const name of opts.keys())
      if (!allowed.includes(name))
        throw new UsageError(`unknown option --${name}${allowed.length ? ` (this command takes ${allowed.map((o) => `--${o}`).join(', ')})` : ''}`);
  }

  string(name: string): string | undefined {
    const v = this.opts.get(name);
    if (v === undefined) return undefined;
    if (v === true || v === '') throw new UsageError(`--${name} needs a value (--${name}=...)`);
    return v;
  }

  flag(name: string): boolean {
    const v = this.opts.get(name);
    if (v === undefined) return false;
    if (v !== true) throw new UsageError(`--${name} takes no value`);
    return true;
  }

  int(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.string(name);
    return v === undefined ? undefined : parseId(v, `--${name}`, min, max);
  }
}

/** A whole number within bounds (ids, counts), or a usage error naming the argument. */
export function parseId(text: string | undefined, what: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) throw new UsageError(`${what} is missing`);
  if (!/^\d{1,16}$/.test(text)) throw new UsageError(`${what} must be a whole number, not ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${what} must be between ${min} and ${max}`);
  return n;
}
