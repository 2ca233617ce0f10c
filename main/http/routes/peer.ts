import type { FastifyInstance } from 'fastify';
import type { BoxContext } from '../context.js';
import { requirePeer } from '../auth-hooks.js';

/** Box-to-box calls; every one carries a single-use token from a known box. */
export async function peerRoutes(app: FastifyInstance, ctx: BoxContext): Promise<void> {
  const peer = requirePeer(ctx);
  // The hub's clock is the reference for its teaching points (token times, expiry, timetable).
  app.get('/api/peer/time', { preHandler: peer }, async (req) => ({ time: ctx.clock.now(), boxId: ctx.identity.boxId, caller: req.actor }));
}
