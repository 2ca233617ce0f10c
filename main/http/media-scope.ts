// What a screen's media token may do here (its scope), and the short-lived tickets that stand in for it
// where a browser cannot send a header. Kept apart from media-auth.ts, which says who is calling.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BoxError } from '../../core/errors.js';
import { scopeIncludes, type MediaScope } from '../../core/contract/media-scope.js';
import type { BoxContext } from './context.js';

function scopeError(needed: MediaScope, held: MediaScope): BoxError {
  return new BoxError('E_SCOPE', `This screen's token (${held}) does not allow that: it needs the ${needed} scope.`, { needed, held });
}

/** One audit row per source, reason and minute (with a count): a refused flood cannot grow the log. */
export function auditRefusal(ctx: BoxContext, req: FastifyRequest, reason: string, actor: string, details: Record<string, unknown> = {}): void {
  ctx.audit.appendCoalesced(`media.refused\n${req.ip}\n${reason}`, {
    actor, action: 'media.refused', target: `${req.method} ${req.routeOptions.url ?? req.url}`, outcome: 'refused', details: { reason, ip: req.ip, ...details },
  });
}

export function requireScope(caller: { scope: MediaScope }, needed: MediaScope): void {
  if (!scopeIncludes(caller.scope, needed)) throw scopeError(needed, caller.scope);
}

/**
 * A local screen: any scope plays and reads; publishing the hub's broadcast needs `console` (and only a
 * hub has one to publish: a teaching point's broadcast room is its hub's lesson, relayed); publishing a
 * classroom room needs `classroom` and only this box's own classroom.
 */
export function checkLocalAccess(ctx: BoxContext, caller: { scope: MediaScope }, ref: { classroomOf: string | undefined }, kind: 'whip' | 'whep' | 'control'): void {
  if (kind !== 'whip') return;
  if (ref.classroomOf === undefined) {
    if (ctx.role !== 'hub') throw new BoxError('E_FORBIDDEN', 'A teaching point\'s broadcast room carries its hub\'s lesson: nothing else publishes there.');
    return requireScope(caller, 'console');
  }
  if (ref.classroomOf !== ctx.identity.boxId) throw new BoxError('E_FORBIDDEN', 'A screen publishes only into its own box\'s classroom room.');
  requireScope(caller, 'classroom');
}

/**
 * preHandler for the few routes a browser opens by URL (the control WebSocket, a recording's media):
 * `?ticket=` (minted by POST /api/media-tickets for exactly this path) stands for the token it was
 * minted with; without one, `inner` (header auth) decides.
 */
export function ticketOr(ctx: BoxContext, inner: (req: FastifyRequest, reply: FastifyReply) => Promise<void>) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const ticket = (req.query as Record<string, unknown> | undefined)?.ticket;
    if (ticket === undefined) return inner(req, reply);
    const media = ctx.media;
    const path = req.url.split('?')[0]!;
    const owner = typeof ticket === 'string' && ticket.length <= 100 ? media?.tickets.redeem(ticket, path) : undefined;
    const token = owner ? media?.tokens.byId(owner.tokenId) : undefined;
    if (!token) {
      auditRefusal(ctx, req, 'ticket', 'anonymous');
      throw new BoxError('E_TICKET', 'This link has expired or was already used: open it again from the screen.');
    }
    req.mediaCaller = { kind: 'local', tokenId: token.id, scope: token.scope };
  };
}
