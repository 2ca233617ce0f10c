import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import type { BoxContext } from '../context.js';
import { checkBoxAccess, mediaOf, requireMediaCaller, resolveRoom } from '../media-auth.js';

const roomParam = z.strictObject({ room: z.string().min(1).max(200) });
const sessionParams = z.strictObject({ room: z.string().min(1).max(200), session: z.string().regex(/^[A-Za-z0-9_-]{10,64}$/, 'a session id') });
const whepQuery = z.strictObject({ layer: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/, 'a simulcast layer rid').optional() });

/**
 * WHIP (RFC 9725) ingest and WHEP egress: SDP offer in, 201 with the answer and a Location, DELETE
 * on the Location ends the session. The Location carries an unguessable session id, which is what
 * DELETE needs (box tokens are single use, so the POST's token cannot be shown again).
 */
export async function whipWhepRoutes(app: FastifyInstance, ctx: BoxContext): Promise<void> {
  const auth = requireMediaCaller(ctx);
  app.addContentTypeParser('application/sdp', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const post = (kind: 'whip' | 'whep') => async (req: FastifyRequest, reply: FastifyReply) => {
    const { room } = parseOrThrow(roomParam, req.params, 'The room');
    const ctype = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (ctype !== 'application/sdp') throw new BoxError('E_UNSUPPORTED_MEDIA_TYPE', 'Send the SDP offer as application/sdp.');
    const ref = resolveRoom(ctx, room);
    const caller = req.mediaCaller!;
    checkBoxAccess(ctx, caller, ref, kind);
    const actor = caller.kind === 'box' ? caller.boxId : `token:${caller.tokenId}`;
    const { sfu } = mediaOf(ctx);
    const out = kind === 'whip'
      ? await sfu.publish(room, String(req.body ?? ''), actor)
      : await sfu.subscribe(room, String(req.body ?? ''), actor, parseOrThrow(whepQuery, req.query, 'The WHEP query').layer);
    return reply.code(201)
      .header('location', `/${kind}/${encodeURIComponent(room)}/${out.session.id}`)
      .header('content-type', 'application/sdp')
      .send(out.answer);
  };

  const del = (kind: 'whip' | 'whep') => async (req: FastifyRequest, reply: FastifyReply) => {
    const { room, session } = parseOrThrow(sessionParams, req.params, 'The session');
    const { sfu } = mediaOf(ctx);
    const s = sfu.getSession(session);
    if (!s || s.kind !== kind || s.room !== room) throw new BoxError('E_NOT_FOUND', 'No such media session (already ended?).');
    await sfu.end(session, 'deleted');
    return reply.code(200).send();
  };

  const refuse = async () => {
    throw new BoxError('E_METHOD_NOT_ALLOWED', 'Trickle ICE and ICE restarts are not supported: start a new session.');
  };

  for (const kind of ['whip', 'whep'] as const) {
    app.post(`/${kind}/:room`, { preHandler: auth, config: { rateLimit: { max: 120, timeWindow: '1 minute' } } }, post(kind));
    app.delete(`/${kind}/:room/:session`, del(kind));
    app.patch(`/${kind}/:room/:session`, refuse);
    app.options(`/${kind}/:room`, async (_req, reply) => reply.code(204).header('accept-post', 'application/sdp').send());
  }

  app.get('/api/media/stats', { preHandler: auth }, async () => ({ ...mediaOf(ctx).sfu.counts(), links: mediaOf(ctx).agent?.status() ?? [] }));
}
