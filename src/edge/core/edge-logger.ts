/**
 * A small leveled logger for the edge (hierarchical names: `edge.core`, `edge.wire`), writing
 * one JSON line per record to a sink (stderr by default). The edge imports nothing from the
 * rest of src, so it does not share the service's pino instance.
 */
export type EdgeLogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

const RANK: Readonly<Record<EdgeLogLevel, number>> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

export class EdgeLogger {
  constructor(
    private readonly name: string,
    private readonly level: EdgeLogLevel,
    private readonly sink: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  ) {}

  child(name: string): EdgeLogger {
    return new EdgeLogger(`${this.name}.${name}`, this.level, this.sink);
  }

  enabled(level: Exclude<EdgeLogLevel, 'silent'>): boolean {
    return RANK[level] <= RANK[this.level];
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }

  private write(level: Exclude<EdgeLogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    this.sink(JSON.stringify({ time: new Date().toISOString(), level, name: this.name, msg, ...fields }));
  }
}
