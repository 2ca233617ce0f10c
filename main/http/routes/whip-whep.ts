import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BoxError, isBoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import { TAKEOVER_HEADER, type MediaSessionState } from '../../../core/contract/media-scope.js';
import type { BoxContext } from '../context.js';
import { checkBoxAccess, mediaOf, requireMediaCaller, resolveRoom, type MediaCaller } from '../media-auth.js';
import { auditRefusal, requireScope } from '../media-scope.js';

const roomParam = z.strictObject({ room: z.string().min(1).max(200) });
const sessionParams = z.strictObject({ room: z.string().min(1).max(200), session: z.string().regex(/^[A-Za-z0-9_-]{10,64}$/, 'a session id') });
const whepQuery = z.strictObject({ layer: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/, 'a simulcast layer rid').optional() });
const whipQuery = z.strictObject({ takeover: z.enum(['1', 'true']).optional() });
const takeoverHeader = z.enum(['1', 'true']).optional();
const sessionParam = z.strictObject({ session: z.string().regex(/^[A-Za-z0-9_-]{10,64}$/, 'a session id') });

/**
 * A WHIP caller asks to take the room over with `?takeover=1` or the `x-box-takeover: 1` header; only a
 * `console` screen may (a box's own reconnect needs no flag: it replaces its own stale session).
 */
function wantsTakeover(req: FastifyRequest, caller: MediaCaller): boolean {
  const q = parseOrThrow(whipQuery, req.query, 'The WHIP query').takeover;
  const h = parseOrThrow(takeoverHeader, req.headers[TAKEOVER_HEADER], 'The takeover header');
  if (q === undefined && h === undefined) return false;
  if (caller.kind === 'box') throw new BoxError('E_FORBIDDEN', 'Another box never takes a room over: its reconnect replaces its own session.');
  requireScope(caller, 'console');
  return true;
}

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
    const actor = caller.kind === 'box' ? caller.boxId : `token:${caller.tokenId}`;
    const { sfu } = mediaOf(ctx);
    let takeover = false;
    try {
      checkBoxAccess(ctx, caller, ref, kind);
      if (kind === 'whip') takeover = wantsTakeover(req, caller);
    } catch (e) {
      if (isBoxError(e) && (e.code === 'E_SCOPE' || e.code === 'E_FORBIDDEN')) auditRefusal(ctx, req, `${kind}-${e.code}`, actor, { room });
      throw e;
    }
    const hadPublisher = kind === 'whip' && sfu.findRoom(room)?.publisher !== undefined;
    let out;
    try {
      out = kind === 'whip'
        ? await sfu.publish(room, String(req.body ?? ''), actor, { takeover })
        : await sfu.subscribe(room, String(req.body ?? ''), actor, parseOrThrow(whepQuery, req.query, 'The WHEP query').layer);
    } catch (e) {
      if (isBoxError(e) && e.code === 'E_ROOM_HAS_PUBLISHER') auditRefusal(ctx, req, 'room-has-publisher', actor, { room });
      throw e;
    }
    if (takeover && hadPublisher) ctx.audit.append({ actor, action: 'media.takeover', target: room, outcome: 'ok', details: { ip: req.ip } });
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

  // What became of a session: its Location's unguessable id is the capability, as for DELETE. A console
  // whose camera session ended asks before republishing, so a takeover is shown, not fought.
  app.get('/api/media/sessions/:session', async (req): Promise<MediaSessionState> => {
    const { session } = parseOrThrow(sessionParam, req.params, 'The session');
    return { id: session, ...mediaOf(ctx).sfu.sessionState(session) };
  });

  app.get('/api/media/stats', { preHandler: auth }, async () => ({ ...mediaOf(ctx).sfu.counts(), links: mediaOf(ctx).agent?.status() ?? [] }));
}
