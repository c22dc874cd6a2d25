import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RecordingRecord } from '../../recordings/recordings.ts';
import { AppError } from '../../errors.ts';
import { byteRange } from '../byte-range.ts';
import type { RecordingConsentState } from '../../accounts/recording-consent.ts';
import { customerOf, principalOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import { NO_CARD_NUMBER } from '../card-number-keyword.ts';
import { dateTime, id } from '../schemas.ts';
import { audit, mayRead, statedPurpose } from './common.ts';

/**
 * Call recording (docs/privacy.md › Call recording). The consent: the account holder turns it on
 * and off under /v1/self/recording-consent; an operator may turn it off for an account, never on
 * (403 CONSENT_BY_PERSON_ONLY). Every change is kept as evidence (recording_consent_events) and
 * audit-logged.
 *
 * The recordings: a customer lists and plays (or downloads) their own under /v1/self/recordings;
 * operators with the `recordings` scope find a call's under /v1/recordings?callId=… (or an
 * account's, ?accountId=…) and play them (while processing is restricted, only with a stated
 * purpose, kept in the audit entry). The audio route answers HTTP range
 * requests (206 with Content-Range; 416 for a range outside the file). Every list and every play
 * or download is audit-logged.
 */
const consent = {
  type: 'object',
  required: ['recording', 'since'],
  properties: {
    recording: { type: 'boolean', description: 'calls of the account are recorded' },
    since: { anyOf: [dateTime, { type: 'null' }], description: 'when the current state was set (null: never turned on)' },
  },
} as const;
const consentWithHistory = {
  type: 'object',
  required: ['recording', 'since', 'history'],
  properties: {
    ...consent.properties,
    history: {
      type: 'array',
      items: {
        type: 'object',
        required: ['action', 'actor', 'at'],
        properties: { action: { type: 'string', enum: ['opt_in', 'opt_out'] }, actor: { type: 'string' }, at: dateTime },
      },
    },
  },
} as const;
const consentBody = { type: 'object', required: ['recording'], additionalProperties: false, properties: { recording: { type: 'boolean' } } } as const;
const accountOnly = { type: 'object', required: ['accountId'], additionalProperties: false, properties: { accountId: id } } as const;

const shownConsent = (c: RecordingConsentState) => ({ recording: c.recording, since: c.since?.toISOString() ?? null });

const recording = {
  type: 'object',
  required: ['id', 'callId', 'callStart', 'durationMs', 'sizeBytes', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    callId: { type: 'string', description: "the call's CDR call id" },
    callStart: { ...dateTime, description: "the call's CDR start time" },
    accountId: { type: 'integer' },
    dialledNumber: { type: ['string', 'null'] },
    durationMs: { type: 'integer' },
    sizeBytes: { type: 'integer' },
    sha256: { type: 'string' },
    createdAt: dateTime,
  },
} as const;
const recordingList = { type: 'object', required: ['items'], properties: { items: { type: 'array', items: recording } } } as const;
const uuid = { type: 'string', pattern: '^[0-9a-fA-F-]{36}$' } as const;
const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: uuid } } as const;
const audioQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { download: { type: 'boolean', description: 'as an attachment (a file to save) rather than to play' } },
} as const;
const audioResponse = {
  200: {
    description: 'the whole recording: WAV, 8 kHz, 16-bit, two channels (left the caller, right the party called)',
    content: { 'audio/wav': { schema: { type: 'string' } } },
  },
  206: { description: 'the byte range asked for (Content-Range)', content: { 'audio/wav': { schema: { type: 'string' } } } },
} as const;

const shown = (r: RecordingRecord) => ({
  id: r.id,
  callId: r.callId,
  callStart: r.callStart.toISOString(),
  accountId: r.accountId,
  dialledNumber: r.dialledNumber ?? null,
  durationMs: r.durationMs,
  sizeBytes: r.sizeBytes,
  sha256: r.sha256,
  createdAt: r.createdAt.toISOString(),
});

export function recordingRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const TAG = ['recordings'];

  const setConsent = async (req: FastifyRequest, accountId: number, recording: boolean, by: 'person' | 'operator') => {
    const a = await ctx.accounts.get(accountId);
    const c = await ctx.recordingConsents.set(a.id, recording, principalOf(req).actor, by);
    await audit(ctx, req, 'recording.consent', { customerId: a.customerId, accountId: a.id }, { recording });
    return shownConsent(c);
  };

  app.get(
    '/v1/self/recording-consent',
    {
      config: { access: 'customer' },
      schema: { tags: ['self-care'], summary: 'Whether my calls are recorded (off unless I turned it on)', response: { 200: consent } },
    },
    async (req) => shownConsent(await ctx.recordingConsents.of(customerOf(req).accountId)),
  );
  app.put<{ Body: { recording: boolean } }>(
    '/v1/self/recording-consent',
    {
      config: { access: 'customer' },
      schema: {
        tags: ['self-care'],
        summary: 'Turn the recording of my calls on or off (from the next call)',
        body: consentBody,
        response: { 200: consent },
      },
    },
    async (req) => setConsent(req, customerOf(req).accountId, req.body.recording, 'person'),
  );

  app.get<{ Params: { accountId: number } }>(
    '/v1/accounts/:accountId/recording-consent',
    {
      config: { access: 'read' },
      schema: { tags: TAG, summary: "An account's call-recording consent and its history", params: accountOnly, response: { 200: consentWithHistory } },
    },
    async (req) => {
      const a = await ctx.accounts.get(req.params.accountId);
      await mayRead(ctx, req, { customerId: a.customerId });
      await audit(ctx, req, 'recording.consent.read', { customerId: a.customerId, accountId: a.id });
      const history = (await ctx.recordingConsents.history(a.id)).map((e) => ({ action: e.action, actor: e.actor, at: e.at.toISOString() }));
      return { ...shownConsent(await ctx.recordingConsents.of(a.id)), history };
    },
  );
  app.put<{ Params: { accountId: number }; Body: { recording: boolean } }>(
    '/v1/accounts/:accountId/recording-consent',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAG,
        summary: "Turn an account's call recording off (only the account holder can turn it on: 403)",
        params: accountOnly,
        body: consentBody,
        response: { 200: consent },
      },
    },
    async (req) => setConsent(req, req.params.accountId, req.body.recording, 'operator'),
  );

  /** The recording's audio, whole or the byte range asked for; audited as a play or a download. */
  const audio = async (req: FastifyRequest, reply: FastifyReply, r: RecordingRecord, customerId: number | null, download: boolean) => {
    const size = await ctx.recordingStore.size(r.storageKey);
    if (size === undefined) throw new AppError('UNKNOWN_RECORDING', 'the recording file is gone');
    const range = byteRange(req.headers.range, size);
    await audit(
      ctx,
      req,
      download ? 'recording.download' : 'recording.play',
      { customerId, accountId: r.accountId },
      {
        recordingId: r.id,
        callId: r.callId,
        ...(range.kind === 'part' ? { range: `${range.start}-${range.end}` } : {}),
      },
    );
    void reply
      .type('audio/wav')
      .header('accept-ranges', 'bytes')
      .header('cache-control', 'private, no-store')
      .header('x-content-type-options', 'nosniff')
      .header('content-disposition', `${download ? 'attachment' : 'inline'}; filename="recording-${r.id}.wav"`);
    if (range.kind === 'unsatisfiable') {
      void reply.header('content-range', `bytes */${size}`);
      throw new AppError('RANGE_NOT_SATISFIABLE');
    }
    if (range.kind === 'whole') return reply.header('content-length', size).send(ctx.recordingStore.stream(r.storageKey));
    return reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
      .header('content-length', range.end - range.start + 1)
      .send(ctx.recordingStore.range(r.storageKey, range.start, range.end));
  };

  app.get<{ Querystring: { limit?: number } }>(
    '/v1/self/recordings',
    {
      config: { access: 'customer' },
      schema: {
        tags: ['self-care'],
        summary: 'My call recordings, newest first',
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 200 } } },
        response: { 200: recordingList },
      },
    },
    async (req) => {
      const me = customerOf(req);
      const items = await ctx.recordings.ofAccount(me.accountId, req.query.limit ?? 50);
      await audit(ctx, req, 'recording.list', { customerId: me.customerId, accountId: me.accountId }, { count: items.length });
      return { items: items.map(shown) };
    },
  );
  app.get<{ Params: { id: string }; Querystring: { download?: boolean } }>(
    '/v1/self/recordings/:id/audio',
    {
      config: { access: 'customer' },
      schema: {
        tags: ['self-care'],
        summary: 'Play or download one of my recordings (byte ranges)',
        params: idParams,
        querystring: audioQuery,
        response: audioResponse,
      },
    },
    async (req, reply) => {
      const me = customerOf(req);
      const r = await ctx.recordings.get(req.params.id.toLowerCase());
      // another account's recording is answered exactly as one that does not exist
      if (r === undefined || r.accountId !== me.accountId) throw new AppError('UNKNOWN_RECORDING');
      return audio(req, reply, r, me.customerId, req.query.download === true);
    },
  );

  app.get<{ Querystring: { callId?: string; accountId?: number; limit?: number } }>(
    '/v1/recordings',
    {
      config: { access: 'recordings' },
      schema: {
        tags: TAG,
        summary: "A call's recordings (by its CDR call id), or an account's, newest first (one of the two is required)",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            callId: { type: 'string', minLength: 1, maxLength: 256, ...NO_CARD_NUMBER },
            accountId: id,
            limit: { type: 'integer', minimum: 1, maximum: 200, description: "an account's: at most this many (50)" },
          },
        },
        response: { 200: recordingList },
      },
    },
    async (req) => {
      const { callId, accountId } = req.query;
      const purpose = statedPurpose(req);
      if (callId === undefined) {
        if (accountId === undefined) throw new AppError('VALIDATION_FAILED', 'callId or accountId is required');
        const a = await ctx.accounts.get(accountId);
        await mayRead(ctx, req, { customerId: a.customerId });
        const items = await ctx.recordings.ofAccount(a.id, req.query.limit ?? 50);
        await audit(ctx, req, 'recording.find', { customerId: a.customerId, accountId: a.id }, { count: items.length });
        return { items: items.map(shown) };
      }
      const items = (await ctx.recordings.ofCall(callId)).filter((r) => accountId === undefined || r.accountId === accountId);
      for (const r of items) await mayRead(ctx, req, { accountId: r.accountId });
      await ctx.audit.writeMany(
        principalOf(req).actor,
        'recording.find',
        items.map((r) => ({ customerId: null, accountId: r.accountId })),
        { callId, ...(purpose ? { purpose } : {}) },
      );
      return { items: items.map(shown) };
    },
  );
  app.get<{ Params: { id: string }; Querystring: { download?: boolean } }>(
    '/v1/recordings/:id/audio',
    {
      config: { access: 'recordings' },
      schema: { tags: TAG, summary: 'Play or download a recording (byte ranges)', params: idParams, querystring: audioQuery, response: audioResponse },
    },
    async (req, reply) => {
      const r = await ctx.recordings.get(req.params.id.toLowerCase());
      if (r === undefined) throw new AppError('UNKNOWN_RECORDING');
      const customerId = await ctx.directory.customerOf(r.accountId);
      await mayRead(ctx, req, { customerId });
      return audio(req, reply, r, customerId, req.query.download === true);
    },
  );
}
