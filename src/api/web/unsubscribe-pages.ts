/**
 * One-click unsubscribe (RFC 8058). Every list mail carries `List-Unsubscribe: <…/unsubscribe?t=…>`
 * and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`: a mail program POSTs
 * `List-Unsubscribe=One-Click` to that address, and the opt-out is recorded at once. Opening the
 * link in a browser (GET) changes nothing, since link scanners and previews fetch links: it shows
 * a page with one button that makes the same POST. The token is the authority (it names one person
 * and one list and is signed), so no login and no CSRF token are asked for.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import { html } from '../../common/html.ts';
import { pageRoute, sendPage } from './web-kit.ts';
import type { Web } from './web-kit.ts';

const query = { type: 'object', properties: { t: { type: 'string', maxLength: 200 } } } as const;
const LIST_NAMES: Record<string, string> = { customer: 'news and offers for customers', potential_customer: 'offers for new services' };

export function unsubscribePages(web: Web, app: FastifyInstance): void {
  const token = (req: FastifyRequest): string => String((req.query as { t?: string }).t ?? '');

  app.get('/unsubscribe', pageRoute('One-click unsubscribe: the confirmation page (GET changes nothing)', { querystring: query }), async (req, reply) => {
    const who = web.ctx.mailingLists.readToken(token(req));
    if (!who) return sendPage(web, req, reply, { title: 'Unsubscribe', status: 404, body: html`<p>This unsubscribe link is not valid.</p>` });
    return sendPage(web, req, reply, {
      title: 'Unsubscribe',
      body: html`<p>Stop sending me ${LIST_NAMES[who.list] ?? who.list}?</p>
        <form method="post" action="/unsubscribe?t=${encodeURIComponent(token(req))}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
    });
  });

  app.post(
    '/unsubscribe',
    {
      ...pageRoute('One-click unsubscribe (RFC 8058): records the opt-out of the person and list the token names', {
        querystring: query,
        body: { type: 'object', properties: { 'List-Unsubscribe': { type: 'string', maxLength: 20 } } },
      }),
    },
    async (req, reply) => {
      try {
        const { list } = await web.ctx.mailingLists.unsubscribe(token(req));
        return sendPage(web, req, reply, { title: 'Unsubscribed', body: html`<p>Done: you will get no more ${LIST_NAMES[list] ?? list} from us.</p>` });
      } catch (err) {
        if (err instanceof AppError && err.code === 'NOT_FOUND')
          return sendPage(web, req, reply, { title: 'Unsubscribe', status: 404, body: html`<p>This unsubscribe link is not valid.</p>` });
        throw err;
      }
    },
  );
}
