import type { FastifyReply, FastifyRequest } from 'fastify';
import { BoxError } from '../../core/errors.js';
import { TokenRefused, verifyBoxToken } from '../../core/box-token.js';
import { bearer } from '../../core/bearer.js';
import type { BoxContext } from './context.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: string;
  }
}

/** preHandler for settings and admin routes: a live PIN session is required. */
export function requireSession(ctx: BoxContext) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const actor = ctx.pin.checkSession(bearer(req.headers.authorization));
    if (!actor) throw new BoxError('E_UNAUTHORIZED', 'Enter the settings PIN first (session missing or expired).');
    req.actor = actor;
  };
}

/** preHandler for box-to-box routes: a fresh, single-use token signed by a known, active box. */
export function requirePeer(ctx: BoxContext) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    try {
      const { boxId } = await verifyBoxToken(bearer(req.headers.authorization), {
        audience: ctx.identity.boxId,
        clock: ctx.clock,
        toleranceSeconds: ctx.config.security.clockToleranceSeconds,
        maxTtlSeconds: ctx.config.security.tokenTtlSeconds,
        lookup: (id) => ctx.peers.lookup(id),
        remember: (jti, iss, exp) => ctx.peers.rememberToken(jti, iss, exp),
      });
      ctx.peers.markSeen(boxId);
      req.actor = boxId;
    } catch (e) {
      if (e instanceof TokenRefused) {
        ctx.metrics.authRefused.inc({ reason: e.reason });
        // One row per source and reason a minute (with a count): a flood of bad tokens cannot grow the log.
        ctx.audit.appendCoalesced(`auth.refused\n${req.ip}\n${e.reason}`, {
          actor: e.issuer ?? 'anonymous',
          action: 'auth.refused',
          target: `${req.method} ${req.routeOptions.url ?? req.url}`,
          outcome: 'refused',
          details: { reason: e.reason, ip: req.ip },
        });
      }
      throw e;
    }
  };
}
