import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RecordingConsentState } from '../../accounts/recording-consent.ts';
import { customerOf, principalOf } from '../api-context.ts';
import type { ApiContext } from '../api-context.ts';
import { dateTime, id } from '../schemas.ts';
import { audit, mayRead } from './common.ts';

/**
 * Call recording (docs/privacy.md › Call recording). The consent: the account holder turns it on
 * and off under /v1/self/recording-consent; an operator may turn it off for an account, never on
 * (403 CONSENT_BY_PERSON_ONLY). Every change is kept as evidence (recording_consent_events) and
 * audit-logged.
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
}
