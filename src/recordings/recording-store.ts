/**
 * Where call recordings are kept. The store is an interface (put, stream, range, size, delete) so
 * an S3-compatible one can replace the directory; the SIP app writes through `create` (the media
 * port's RecordingSink: appended as the call goes, the WAV header written last), the account API
 * reads and erases.
 *
 * Keys are relative paths of plain segments (`2026/12/07/<uuid>.wav`): letters, digits, `.`, `_`
 * and `-`, never `..`, so a key can never leave the directory.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { RecordingFile, RecordingSink } from '../media/media-port.ts';

export interface RecordingStore extends RecordingSink {
  /** Stores a whole file under `key` (replacing one there). */
  put(key: string, data: Buffer): Promise<void>;
  /** The file's size in bytes; undefined when there is none. */
  size(key: string): Promise<number | undefined>;
  /** The whole file. */
  stream(key: string): Readable;
  /** Bytes `start` to `end` inclusive (HTTP range semantics). */
  range(key: string, start: number, end: number): Readable;
  /** Removes the file; true when there was one. */
  delete(key: string): Promise<boolean>;
  create(key: string): Promise<RecordingFile>;
  describe(key: string): Promise<{ bytes: number; sha256: string }>;
  /**
   * Removes every file of a day before `before` (keys begin with the day: `<yyyy>/<mm>/<dd>/`),
   * whether or not a record names it: what a process that died mid-call left (`.partial`), or a
   * recording whose record could not be written. Returns how many files went.
   */
  sweep(before: Date): Promise<number>;
}

const KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}(\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}){0,7}$/;

export function isRecordingKey(key: string): boolean {
  return KEY.test(key) && !key.split('/').some((s) => s === '.' || s === '..');
}

/** The key of a new recording: the UTC day of the call and a random name. */
export function recordingKey(at: Date, id: string): string {
  const d = at.toISOString();
  return `${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/${id}.wav`;
}

/** Appends are gathered and written this many bytes at a time (about two seconds of a stereo 16-bit call). */
const FLUSH_BYTES = 64 * 1024;

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A recording being written: `<key>.partial` until finished, then renamed to its key. */
class DirectoryRecordingFile implements RecordingFile {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written: number;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    private readonly fh: FileHandle,
    private readonly partial: string,
    private readonly final: string,
    headerBytes: number,
  ) {
    this.written = headerBytes;
  }

  append(chunk: Buffer): void {
    this.pending.push(Buffer.from(chunk));
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const at = this.written;
    this.written += data.length;
    this.chain = this.chain.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await this.fh.write(data, 0, data.length, at);
      } catch (err) {
        this.failure = err as Error;
      }
    });
  }

  async finish(header: Buffer): Promise<{ bytes: number; sha256: string }> {
    this.flush();
    await this.chain;
    try {
      if (this.failure !== undefined) throw this.failure;
      await this.fh.write(header, 0, header.length, 0);
      await this.fh.sync();
      await this.fh.close();
      await rename(this.partial, this.final);
    } catch (err) {
      await this.fh.close().catch(() => undefined);
      await unlink(this.partial).catch(() => undefined);
      throw err;
    }
    return { bytes: this.written, sha256: await sha256Of(this.final) };
  }

  async abort(): Promise<void> {
    this.pending = [];
    await this.chain;
    await this.fh.close().catch(() => undefined);
    await unlink(this.partial).catch(() => undefined);
  }
}

/** The store on a directory (RECORDINGS_DIR), shared by the SIP app processes, the account API and FreeSWITCH. */
export class DirectoryRecordingStore implements RecordingStore {
  readonly dir: string;

  /** `mediaDir`: the same directory as FreeSWITCH sees it (default: the same path). */
  constructor(
    dir: string,
    private readonly mediaDir: string = resolve(dir),
  ) {
    this.dir = resolve(dir);
  }

  private path(key: string): string {
    if (!isRecordingKey(key)) throw new Error(`not a recording key: ${JSON.stringify(key)}`);
    return join(this.dir, key);
  }

  pathOf(key: string): string | undefined {
    return isRecordingKey(key) ? `${this.mediaDir}/${key}` : undefined;
  }

  async create(key: string): Promise<RecordingFile> {
    const final = this.path(key);
    await mkdir(dirname(final), { recursive: true });
    const partial = `${final}.partial`;
    const fh = await open(partial, 'wx');
    try {
      await fh.write(Buffer.alloc(44), 0, 44, 0); // the header's place
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(partial).catch(() => undefined);
      throw err;
    }
    return new DirectoryRecordingFile(fh, partial, final, 44);
  }

  async put(key: string, data: Buffer): Promise<void> {
    const final = this.path(key);
    await mkdir(dirname(final), { recursive: true });
    await writeFile(`${final}.partial`, data);
    await rename(`${final}.partial`, final);
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(key))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  stream(key: string): Readable {
    return createReadStream(this.path(key));
  }

  range(key: string, start: number, end: number): Readable {
    return createReadStream(this.path(key), { start, end });
  }

  async delete(key: string): Promise<boolean> {
    try {
      await unlink(this.path(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async describe(key: string): Promise<{ bytes: number; sha256: string }> {
    const p = this.path(key);
    return { bytes: (await stat(p)).size, sha256: await sha256Of(p) };
  }

  async sweep(before: Date): Promise<number> {
    const cutoff = before.toISOString().slice(0, 10);
    const list = async (p: string): Promise<string[]> => {
      try {
        return (await readdir(p)).filter((n) => /^[0-9]+$/.test(n)).sort();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    };
    const count = async (p: string): Promise<number> => {
      let n = 0;
      for (const e of await readdir(p, { withFileTypes: true })) n += e.isDirectory() ? await count(join(p, e.name)) : 1;
      return n;
    };
    let removed = 0;
    for (const y of await list(this.dir))
      for (const m of await list(join(this.dir, y)))
        for (const d of await list(join(this.dir, y, m))) {
          if (`${y}-${m}-${d}` >= cutoff) continue;
          const p = join(this.dir, y, m, d);
          removed += await count(p);
          await rm(p, { recursive: true, force: true });
        }
    return removed;
  }
}
