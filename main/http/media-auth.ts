import type { FastifyReply, FastifyRequest } from 'fastify';
import { BoxError } from '../../core/errors.js';
import { parseRoom, type Lesson } from '../../core/contract/lesson.js';
import type { BoxContext } from './context.js';
import { requirePeer } from './auth-hooks.js';
import type { MediaServices } from '../wiring/media.js';
import type { MediaScope } from '../../core/contract/media-scope.js';
import { checkLocalAccess } from './media-scope.js';
import { bearer } from '../../core/bearer.js';

/** Who is calling a media or lesson route: a local client with a scoped media token, or another box. */
export type MediaCaller = { kind: 'local'; tokenId: string; scope: MediaScope } | { kind: 'box'; boxId: string };

declare module 'fastify' {
  interface FastifyRequest {
    mediaCaller?: MediaCaller;
  }
}

// Only from the header: a long-lived token never rides in a URL (where a browser cannot send a header,
// it uses a short-lived ticket instead: media-scope.ts).
export function mediaOf(ctx: BoxContext): MediaServices {
  if (!ctx.media) throw new BoxError('E_WRONG_ROLE', 'This box does not run live lessons (it is not a hub or teaching point).');
  return ctx.media;
}

/**
 * preHandler: a media token issued by this box (kiosk, hub console, OBS, GStreamer), or a
 * single-use box token from a known box (the other end of a lesson link).
 */
export function requireMediaCaller(ctx: BoxContext) {
  const peer = requirePeer(ctx);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = bearer(req.headers.authorization);
    if (token?.startsWith('mt_')) {
      const info = mediaOf(ctx).tokens.check(token);
      if (!info) {
        // Coalesced per source like refused box tokens: a flood of bad media tokens costs one row a minute.
        ctx.audit.appendCoalesced(`auth.refused\n${req.ip}\nmedia-token`, { actor: 'anonymous', action: 'auth.refused', target: `${req.method} ${req.routeOptions.url ?? req.url}`, outcome: 'refused', details: { reason: 'media-token', ip: req.ip } });
        throw new BoxError('E_UNAUTHORIZED', 'Media token refused: unknown, revoked or expired.', { reason: 'media-token' });
      }
      req.mediaCaller = { kind: 'local', tokenId: info.id, scope: info.scope };
      return;
    }
    await peer(req, reply);
    req.mediaCaller = { kind: 'box', boxId: req.actor! };
  };
}

export interface RoomRef {
  lesson: Lesson;
  /** The teaching point whose classroom this room carries; undefined for the hub's broadcast. */
  classroomOf: string | undefined;
}

/** Resolves `<lesson>` or `<lesson>~<teaching point box id>`; 404 for anything the box does not know. */
export function resolveRoom(ctx: BoxContext, room: string): RoomRef {
  const parsed = parseRoom(room);
  const lesson = parsed ? mediaOf(ctx).lessons.get(parsed.lessonId) : undefined;
  if (!parsed || !lesson || (parsed.classroomOf !== null && !lesson.teachingPoints.includes(parsed.classroomOf))) {
    throw new BoxError('E_NOT_FOUND', `No lesson room ${JSON.stringify(room.slice(0, 100))} on this box.`);
  }
  return { lesson, classroomOf: parsed.classroomOf ?? undefined };
}

/** What another box may do: a teaching point pulls its lessons' broadcast and pushes its own classroom. */
export function checkBoxAccess(ctx: BoxContext, caller: MediaCaller, ref: RoomRef, kind: 'whip' | 'whep' | 'control'): void {
  if (caller.kind === 'local') return checkLocalAccess(ctx, caller, ref, kind);
  if (ctx.role === 'teaching-point') return; // the only box a teaching point trusts is its hub
  const tp = caller.boxId;
  const ok = ref.lesson.teachingPoints.includes(tp) && (
    kind === 'control' ? ref.classroomOf === undefined
      : kind === 'whep' ? ref.classroomOf === undefined
        : ref.classroomOf === tp);
  if (!ok) throw new BoxError('E_FORBIDDEN', 'This teaching point may not use that lesson room.');
}
