import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import type { BoxContext } from '../context.js';
import { requirePeer } from '../auth-hooks.js';
import { requireMediaCaller } from '../media-auth.js';
import { ticketOr } from '../media-scope.js';
import { sendFileWithRange } from '../range-file.js';
import type { RecordingsApi } from '../../../recordings/api.js';
import { bearer } from '../../../core/bearer.js';

const idParam = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/, 'a recording id') });
const infohashParam = z.strictObject({ infohash: z.string().regex(/^[0-9a-f]{40}$/, 'a 40-character hex infohash') });

// The header only: neither a PIN session nor a media token is ever taken from a URL.
/** Recordings on this box (core/contract/recording.ts), plus the hub's side of the catch-up. */
export async function recordingRoutes(app: FastifyInstance, ctx: BoxContext, rec: RecordingsApi): Promise<void> {
  const mediaCaller = requireMediaCaller(ctx);
  // The kiosk (media token) or a PIN session, as for lessons; a <video> element, which cannot send a
  // header, plays the media with a short-lived ticket for that one path (POST /api/media-tickets).
  const caller = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const actor = ctx.pin.checkSession(bearer(req.headers.authorization));
    if (actor) {
      req.actor = actor;
      return;
    }
    await mediaCaller(req, reply);
  };
  const id = (req: FastifyRequest) => parseOrThrow(idParam, req.params, 'The recording').id;

  app.get('/api/recordings', { preHandler: caller }, async () => ({ recordings: rec.catalogue.list(), status: rec.catalogue.status() }));
  app.get('/api/recordings/:id', { preHandler: caller }, async (req) => rec.catalogue.get(id(req)));
  app.get('/api/recordings/:id/media', { preHandler: ticketOr(ctx, caller) }, async (req, reply) => sendFileWithRange(req, reply, rec.catalogue.mediaFile(id(req))).reply);
  app.get('/api/recordings/:id/timeline', { preHandler: caller }, async (req) => rec.catalogue.timeline(id(req)));

  if (ctx.role !== 'hub') return;
  // A teaching point asks with its box token; the list is signed with this hub's box key.
  app.get('/api/peer/recordings', { preHandler: requirePeer(ctx) }, async (req) => rec.signedList(req.actor!));
  // A teaching point offers its own recordings (a list signed with its box key); it then dials this
  // hub's torrent port, since the hub cannot reach a box behind NAT.
  const intake = rec.intake;
  if (intake) app.post('/api/peer/recordings/offer', { preHandler: requirePeer(ctx) }, async (req) => intake.offer(ctx.peers.find(req.actor!), req.body));
  // Web seed: no header auth is possible there; the 160-bit infohash is only in the signed list.
  app.get('/recordings/files/:infohash', async (req, reply) => {
    const path = rec.publishedFile(parseOrThrow(infohashParam, req.params, 'The recording file').infohash);
    if (!path) throw new BoxError('E_NOT_FOUND', 'No such published recording.');
    return sendFileWithRange(req, reply, path).reply;
  });
  const tracker = rec.tracker;
  if (tracker) {
    app.get('/recordings/announce', async (req, reply) => {
      reply.hijack();
      tracker.handle(req.raw, reply.raw);
    });
  }
}
