/**
 * The start-up check of the prompt catalogue: every prompt of every language the IVR speaks must
 * exist where the media server will read it. A server missing one refuses to start, naming what
 * is missing and where it looked; without the check every call reaching that prompt would fail.
 */
import { PROMPT_NAMES, promptPath } from './catalog.ts';
import type { PromptName } from './catalog.ts';

/** Answers whether a path (relative to the sounds root) exists where the media server reads it. */
export type PromptExists = (relativePath: string) => boolean | Promise<boolean>;

export class MissingPromptsError extends Error {
  readonly code = 'MEDIA_PROMPTS_MISSING' as const;
  constructor(
    readonly where: string,
    readonly missing: readonly string[],
  ) {
    const shown = missing.slice(0, 5).join(', ');
    const more = missing.length > 5 ? ` and ${missing.length - 5} more` : '';
    super(
      `${missing.length} prompt file(s) missing under ${where}: ${shown}${more}. ` +
        'Install freeswitch/sounds there, or set MEDIA_SOUNDS_DIR (embedded media) / FREESWITCH_SOUNDS_DIR (FreeSWITCH) to where they are.',
    );
    this.name = 'MissingPromptsError';
  }
}

/** The catalogue's files (relative paths) that `exists` does not find, for the given languages. */
export async function missingPrompts(exists: PromptExists, languages: readonly string[] = ['en']): Promise<string[]> {
  const paths = languages.flatMap((lang) => PROMPT_NAMES.map((name: PromptName) => promptPath(lang, name)));
  const found = await Promise.all(paths.map(async (p) => ({ p, ok: await exists(p) })));
  return found.filter((f) => !f.ok).map((f) => f.p);
}

/** Throws MissingPromptsError when a prompt of the catalogue is missing. */
export async function assertPromptCatalogue(where: string, exists: PromptExists, languages: readonly string[] = ['en']): Promise<void> {
  const missing = await missingPrompts(exists, languages);
  if (missing.length > 0) throw new MissingPromptsError(where, missing);
}

/** What the media servers report about prompts (wired to the log and metrics by the composition root). */
export interface MediaObserver {
  /** A prompt could not be played (file missing where the media server looks). The rest of the list plays on. */
  promptMissing(e: { server: 'embedded' | 'freeswitch'; files: readonly string[]; sessionId: string }): void;
}

export const silentObserver: MediaObserver = {
  promptMissing: () => undefined,
};
