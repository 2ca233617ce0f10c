import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import type { BoxContext } from '../context.js';
import { requirePeer, requireSession } from '../auth-hooks.js';
import { mediaOf, requireMediaCaller } from '../media-auth.js';
import { pointLinks } from '../../../media/lesson-links.js';
import { MEDIA_SCOPES } from '../../../core/contract/media-scope.js';

const idParam = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a lesson id') });
const tokenBody = z.strictObject({
  label: z.string().trim().min(1).max(100),
  ttlSeconds: z.number().int().min(60).max(365 * 86_400).optional(),
  // Omitted: view (least privilege). The settings screen asks for what the screen is for.
  scope: z.enum(MEDIA_SCOPES).optional(),
});
// The only paths a ticket opens: the control WebSocket (single use) and a recording's media (<video src>).
const ticketBody = z.strictObject({
  path: z.union([
    z.string().regex(/^\/api\/lessons\/[A-Za-z0-9_-]{1,64}\/control$/, 'a lesson control path'),
    z.string().regex(/^\/api\/recordings\/[A-Za-z0-9_.%-]{1,300}\/media$/, 'a recording media path'),
  ]),
});
const tokenParam = z.strictObject({ id: z.string().regex(/^[0-9a-f]{12}$/, 'a media token id') });

/** Lessons (defined on the hub, followed by teaching points) and the media tokens for local clients. */
export async function lessonRoutes(app: FastifyInstance, ctx: BoxContext): Promise<void> {
  const session = requireSession(ctx);
  const caller = requireMediaCaller(ctx);
  const media = mediaOf(ctx);

  app.post('/api/admin/media-tokens', { preHandler: session }, async (req, reply) => {
    const b = parseOrThrow(tokenBody, req.body, 'The media token request');
    const { token, info } = media.tokens.issue(b.label, b.ttlSeconds, b.scope);
    ctx.audit.append({ actor: req.actor ?? 'pin', action: 'media-token.issue', target: info.id, outcome: 'ok', details: { label: b.label, scope: info.scope } });
    return reply.code(201).send({ token, ...info });
  });

  // The screens that hold a working token (labels, scopes, expiry: never the tokens), for the revoke list.
  app.get('/api/admin/media-tokens', { preHandler: session }, async () => ({ tokens: media.tokens.list() }));

  app.delete('/api/admin/media-tokens/:id', { preHandler: session }, async (req, reply) => {
    const { id } = parseOrThrow(tokenParam, req.params, 'The media token');
    if (!media.tokens.revoke(id)) throw new BoxError('E_NOT_FOUND', `No active media token ${id}.`);
    media.tickets.forget(id);
    ctx.audit.append({ actor: req.actor ?? 'pin', action: 'media-token.revoke', target: id, outcome: 'ok' });
    return reply.code(204).send();
  });

  // A screen swaps its token (header) for a ticket good for one path, briefly, where a browser cannot send
  // a header. Only screens: a box's tokens are single use already.
  app.post('/api/media-tickets', { preHandler: caller, config: { rateLimit: { max: 240, timeWindow: '1 minute' } } }, async (req, reply) => {
    const { path } = parseOrThrow(ticketBody, req.body, 'The ticket request');
    const c = req.mediaCaller!;
    if (c.kind !== 'local') throw new BoxError('E_FORBIDDEN', 'Tickets are for this box\'s own screens.');
    return reply.code(201).send(media.tickets.mint({ tokenId: c.tokenId }, path, path.endsWith('/control')));
  });

  // Read by the kiosk and hub console (media token); on a teaching point this is the offline copy.
  app.get('/api/lessons', { preHandler: caller }, async () => ({
    lessons: media.lessons.list(),
    ...(media.agent ? { timetable: { fetchedAt: media.agent.timetableFetchedAt, error: media.agent.timetableError }, links: media.agent.status() } : {}),
  }));

  app.get('/api/lessons/:id', { preHandler: caller }, async (req) => {
    const { id } = parseOrThrow(idParam, req.params, 'The lesson');
    const l = media.lessons.get(id);
    if (!l) throw new BoxError('E_NOT_FOUND', `No lesson ${id}.`);
    return l;
  });

  // The whole timeline in one answer (up to the lesson's cap): a screen needs it rarely, so it may not hammer it.
  app.get('/api/lessons/:id/timeline', { preHandler: caller, config: { rateLimit: { max: 30, timeWindow: '1 minute' } } }, async (req) => {
    const { id } = parseOrThrow(idParam, req.params, 'The lesson');
    if (!media.lessons.get(id)) throw new BoxError('E_NOT_FOUND', `No lesson ${id}.`);
    return { events: media.control.since(id, 0, 100_000) };
  });

  if (ctx.role !== 'hub') return;

  // Per teaching point: the ladder rung of its link, for the hub teacher's console.
  app.get('/api/lessons/:id/links', { preHandler: caller }, async (req) => {
    const { id } = parseOrThrow(idParam, req.params, 'The lesson');
    const l = media.lessons.get(id);
    if (!l) throw new BoxError('E_NOT_FOUND', `No lesson ${id}.`);
    return { points: pointLinks(media.sfu, l) };
  });

  app.post('/api/lessons', { preHandler: session }, async (req, reply) => {
    const l = media.lessons.create(req.body);
    ctx.audit.append({ actor: req.actor ?? 'pin', action: 'lesson.create', target: l.id, outcome: 'ok', details: { title: l.title } });
    return reply.code(201).send(l);
  });

  app.put('/api/lessons/:id', { preHandler: session }, async (req) => {
    const { id } = parseOrThrow(idParam, req.params, 'The lesson');
    const l = media.lessons.update(id, req.body);
    ctx.audit.append({ actor: req.actor ?? 'pin', action: 'lesson.update', target: l.id, outcome: 'ok' });
    return l;
  });

  // A teaching point fetches its part of the timetable with its box token.
  app.get('/api/peer/timetable', { preHandler: requirePeer(ctx) }, async (req) => ({ lessons: media.lessons.forTeachingPoint(req.actor!) }));
}
