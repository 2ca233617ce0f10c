import type { FastifyInstance, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import { z } from 'zod';
import { BoxError, isBoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import type { ControlFrame, ControlType } from '../../../core/contract/lesson.js';
import { scopeForControl } from '../../../core/contract/media-scope.js';
import { CONTROL_TYPES } from '../../../media/control-hub.js';
import type { BoxContext } from '../context.js';
import { checkBoxAccess, mediaOf, requireMediaCaller, resolveRoom, type MediaCaller } from '../media-auth.js';
import { auditRefusal, requireScope, ticketOr } from '../media-scope.js';
import { ControlQuotas, POLICY_CLOSE } from '../control-quota.js';
import { ControlFeed } from '../control-feed.js';

const idParam = z.strictObject({ id: z.string().min(1).max(100) });
const frameSchema = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('hello'), sender: z.string().max(100), since: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }),
  z.strictObject({ t: z.literal('send'), msg: z.unknown() }),
]);

/** The few calls made on a server-side socket (ws). */
interface Socket {
  readyState: number;
  bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(ev: 'message', fn: (data: Buffer) => void): void;
  on(ev: 'close', fn: () => void): void;
}

/**
 * Who may send what, whatever the message says of itself: a screen within its token's scope (on a
 * teaching point only a raised hand: lesson commands reach it from the hub, through its own uplink),
 * a teaching point box only its classroom's hand, the hub box nothing here (it is upstream).
 */
function checkSend(ctx: BoxContext, caller: MediaCaller, msg: unknown): void {
  const type = (msg as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !(CONTROL_TYPES as readonly string[]).includes(type)) return; // accept() says what is wrong
  const needed = scopeForControl(type as ControlType);
  if (needed === null) throw new BoxError('E_FORBIDDEN', 'Camera presets are sent by the hub box, not by a screen.');
  if (caller.kind === 'box') {
    if (ctx.role === 'hub' && type === 'hand') return;
    throw new BoxError('E_FORBIDDEN', ctx.role === 'hub' ? 'A teaching point sends only its classroom\'s raised hand.' : 'The hub\'s messages reach this box through its own link to the hub.');
  }
  requireScope(caller, needed);
  if (ctx.role !== 'hub' && type !== 'hand') throw new BoxError('E_FORBIDDEN', 'Lesson commands come from the hub teacher\'s console, through the hub.');
}

/**
 * The lesson control channel: JSON frames over a WebSocket. A client says hello with the last event
 * id it holds and gets everything after it, then every new event in order; each message it sends is
 * stored once, under the sender its credential names (this box's id for its screens, the teaching
 * point's id for its box), and acked. A browser opens it with a single-use ticket (no token in a URL).
 */
export async function controlRoutes(app: FastifyInstance, ctx: BoxContext): Promise<void> {
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  const auth = ticketOr(ctx, requireMediaCaller(ctx));
  const quotas = new ControlQuotas();
  const limits = quotas.limits;
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
    const who = caller.kind === 'box' ? caller.boxId : `token:${caller.tokenId}`;
    const quota = quotas.open(who);
    const refuse = (reason: string) => {
      auditRefusal(ctx, req, reason, who, { lessonId: id });
      // A client that reads nothing would not read a close frame either: drop it at once.
      if (reason === 'control-stalled') socket.terminate();
      else socket.close(POLICY_CLOSE, 'E_CONTROL_QUOTA');
    };
    if (!quota) return refuse('control-connections');
    // The sender is the credential's, never the message's: a screen speaks for this box, a box for itself.
    const sender = caller.kind === 'box' ? caller.boxId : ctx.identity.boxId;
    // A teaching point's own clients' messages also go up to the hub; messages from the hub do not go back.
    const queueUp = ctx.role === 'teaching-point' && caller.kind === 'local';
    const feed = new ControlFeed({ socket, control: media.control, lessonId: id, limits, onStalled: () => refuse('control-stalled') });
    let strikes = 0;
    let hellos = 0;
    const send = (f: ControlFrame) => {
      // Error frames to a client that does not read are dropped, not queued.
      if (socket.readyState === 1 && (f.t !== 'error' || socket.bufferedAmount <= limits.bufferHighBytes)) socket.send(JSON.stringify(f));
    };
    socket.on('message', (data) => {
      if (!quota.take(data.length)) {
        send({ t: 'error', code: 'E_CONTROL_QUOTA', message: 'Too many control messages: slow down.' });
        if (++strikes >= limits.strikes) refuse('control-rate');
        return;
      }
      strikes = 0;
      try {
        const f = parseOrThrow(frameSchema, JSON.parse(data.toString()), 'The control frame');
        if (f.t === 'hello') {
          if (++hellos > limits.hellos) return refuse('control-hellos');
          return feed.start(f.since);
        }
        try {
          checkSend(ctx, caller, f.msg);
        } catch (e) {
          auditRefusal(ctx, req, `control-${(e as BoxError).code}`, who, { lessonId: id });
          throw e;
        }
        const { event, duplicate } = media.control.accept(id, f.msg, { queueUp, sender });
        send({ t: 'ack', sender: event.sender, seq: event.seq });
        // A hand raised in this classroom turns the class camera to the whole-class preset.
        if (queueUp && !duplicate && event.type === 'hand' && event.body.raised === true) {
          ctx.hardware?.onHandRaise().catch((err: unknown) => ctx.log.warn({ err: (err as Error).message }, 'class camera did not turn to the class on hand-raise'));
        }
      } catch (e) {
        send({ t: 'error', code: isBoxError(e) ? e.code : 'E_BAD_JSON', message: (e as Error).message });
      }
    });
    socket.on('close', () => {
      feed.close();
      quota.close();
    });
  });
}
