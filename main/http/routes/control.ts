import type { FastifyInstance, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import { z } from 'zod';
import { BoxError, isBoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import type { ControlEvent, ControlFrame } from '../../../core/contract/lesson.js';
import type { BoxContext } from '../context.js';
import { checkBoxAccess, mediaOf, requireMediaCaller, resolveRoom } from '../media-auth.js';

const idParam = z.strictObject({ id: z.string().min(1).max(100) });
const frameSchema = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('hello'), sender: z.string().max(100), since: z.number().int().min(0) }),
  z.strictObject({ t: z.literal('send'), msg: z.unknown() }),
]);

/** The few calls made on a server-side socket. */
interface Socket {
  readyState: number;
  send(data: string): void;
  close(code?: number): void;
  on(ev: 'message', fn: (data: Buffer) => void): void;
  on(ev: 'close', fn: () => void): void;
}

/**
 * The lesson control channel: JSON frames over a WebSocket. A client says hello with the last event
 * id it holds and gets everything after it, then every new event in order; each message it sends is
 * stored once and acked (it resends unacked ones after a reconnect).
 */
export async function controlRoutes(app: FastifyInstance, ctx: BoxContext): Promise<void> {
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  const auth = requireMediaCaller(ctx);
  const check = async (req: FastifyRequest) => {
    const { id } = parseOrThrow(idParam, req.params, 'The lesson');
    const ref = resolveRoom(ctx, id);
    if (ref.classroomOf !== undefined) throw new BoxError('E_NOT_FOUND', 'A control channel belongs to a lesson, not to a classroom room.');
    checkBoxAccess(ctx, req.mediaCaller!, ref, 'control');
  };

  app.get('/api/lessons/:id/control', { websocket: true, preHandler: [auth, check] }, (raw: unknown, req: FastifyRequest) => {
    const socket = raw as Socket;
    const { id } = req.params as { id: string };
    const media = mediaOf(ctx);
    const caller = req.mediaCaller!;
    // A teaching point's own clients' messages also go up to the hub; messages from the hub do not go back.
    const queueUp = ctx.role === 'teaching-point' && caller.kind === 'local';
    let lastSent = 0;
    let unlisten: (() => void) | undefined;
    const send = (f: ControlFrame) => {
      if (socket.readyState === 1) socket.send(JSON.stringify(f));
    };
    const deliver = (e: ControlEvent) => {
      if (e.id <= lastSent) return;
      lastSent = e.id;
      send({ t: 'event', event: e });
    };
    socket.on('message', (data) => {
      try {
        const f = parseOrThrow(frameSchema, JSON.parse(data.toString()), 'The control frame');
        if (f.t === 'hello') {
          unlisten?.();
          lastSent = f.since;
          unlisten = media.control.listen(id, deliver);
          for (const e of media.control.since(id, f.since, 100_000)) deliver(e);
        } else {
          // Camera presets are originated by the hub box itself (PIN-protected route), never by a screen.
          if ((f.msg as { type?: unknown } | null)?.type === 'preset') throw new BoxError('E_FORBIDDEN', 'Camera presets are sent by the hub box, not by a screen.');
          const { event, duplicate } = media.control.accept(id, f.msg, { queueUp });
          send({ t: 'ack', sender: event.sender, seq: event.seq });
          // A hand raised in this classroom turns the class camera to the whole-class preset.
          if (queueUp && !duplicate && event.type === 'hand' && event.body.raised === true) {
            ctx.hardware?.onHandRaise().catch((err: unknown) => ctx.log.warn({ err: (err as Error).message }, 'class camera did not turn to the class on hand-raise'));
          }
        }
      } catch (e) {
        send({ t: 'error', code: isBoxError(e) ? e.code : 'E_BAD_JSON', message: (e as Error).message });
      }
    });
    socket.on('close', () => unlisten?.());
  });
}
