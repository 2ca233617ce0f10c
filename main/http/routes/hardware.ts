import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import { audioProcessing, cameraRoles, type CameraRole } from '../../../core/contract/hardware.js';
import type { BoxContext } from '../context.js';
import { requirePeer, requireSession } from '../auth-hooks.js';
import { presetRequestSchema } from '../../../hardware/request-schemas.js';
import type { BoxHardware } from '../../wiring/hardware-peer.js';
import { relayPresetOverLesson } from '../../wiring/ptz-relay.js';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';

const boxParam = z.strictObject({ boxId: z.string().regex(/^box-[0-9a-f]{16}$/, 'a box id like box-0123456789abcdef') });
const storeBody = presetRequestSchema;
const announceBody = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(300),
  ptzRoles: z.array(z.enum(cameraRoles as [CameraRole, ...CameraRole[]])).max(3),
});

const loopback = /^(127\.|::1$|\[::1\]$|localhost$|::ffff:127\.)/;

/**
 * A box listening on all interfaces only knows itself as 127.0.0.1: the hub then uses the address
 * the announcement came from, with the announced port.
 */
export function reachableUrl(announced: string, sourceIp: string): string {
  const u = new URL(announced);
  const ip = sourceIp.replace(/^::ffff:/, '');
  if (loopback.test(u.hostname) && !loopback.test(ip)) u.hostname = ip.includes(':') ? `[${ip}]` : ip;
  return u.toString().replace(/\/$/, '');
}

const bare = (ip: string) => ip.replace(/^::ffff:/, '').replace(/^\[|\]$/g, '').toLowerCase();

/** Whether the URL's host is (or resolves to) the address the request came from. */
async function hostIsCaller(url: string, sourceIp: string): Promise<boolean> {
  const host = bare(new URL(url).hostname);
  const from = bare(sourceIp);
  if (isIP(host)) return host === from;
  try {
    return (await lookup(host, { all: true })).some((a) => bare(a.address) === from);
  } catch {
    return false;
  }
}

/** Device roles, PTZ presets and hardware health; the hub side relays presets to its teaching points. */
export async function hardwareRoutes(app: FastifyInstance, ctx: BoxContext, hw: BoxHardware): Promise<void> {
  const session = requireSession(ctx);
  const peer = requirePeer(ctx);

  // The kiosk (same box, no PIN) needs the labels to pick devices and the capture rules to follow.
  app.get('/api/hardware/kiosk', async () => ({ assignment: hw.assignment(), audioProcessing }));

  app.get('/api/hardware/devices', { preHandler: session }, async () => hw.devices());
  app.get('/api/hardware/assignments', { preHandler: session }, async () => hw.assignment());
  app.put('/api/hardware/assignments', { preHandler: session }, async (req) => hw.setAssignment(req.body, req.actor ?? 'unknown'));
  app.get('/api/hardware/ptz', { preHandler: session }, async () => hw.ptzSettingsMasked());
  app.put('/api/hardware/ptz', { preHandler: session }, async (req) => hw.setPtzSettings(req.body, req.actor ?? 'unknown'));

  app.post('/api/hardware/ptz/preset', { preHandler: session }, async (req) => {
    const { role, preset } = parseOrThrow(presetRequestSchema, req.body, 'The preset request');
    return hw.ptz.goToPreset(role, preset);
  });
  app.post('/api/hardware/ptz/store', { preHandler: session }, async (req) => {
    const { role, preset } = parseOrThrow(storeBody, req.body, 'The preset to store');
    return hw.storePreset(role, preset, req.actor ?? 'unknown');
  });

  app.get('/api/hardware/health', { preHandler: session }, async () => hw.health());

  if (ctx.role === 'teaching-point') {
    // Only this box's own hub may steer its cameras.
    app.post('/api/peer/hardware/ptz', { preHandler: peer }, async (req) => {
      const hubId = ctx.hubLink?.snapshot().boxId;
      if (req.actor !== hubId) throw new BoxError('E_FORBIDDEN', 'Only this teaching point\'s hub may move its cameras.');
      const { role, preset } = parseOrThrow(presetRequestSchema, req.body, 'The preset request');
      const audit = (outcome: 'ok' | 'error', details?: Record<string, unknown>) =>
        ctx.audit.append({ actor: req.actor ?? 'unknown', action: 'hardware.ptz.remote', target: `${role}:${preset}`, outcome, ...(details ? { details } : {}) });
      try {
        const r = await hw.ptz.goToPreset(role, preset);
        audit('ok');
        return r;
      } catch (e) {
        audit('error', { code: (e as BoxError).code ?? 'E_INTERNAL' });
        throw e;
      }
    });
  }

  if (ctx.role === 'hub') {
    app.post('/api/peer/hardware/announce', { preHandler: peer }, async (req, reply) => {
      const b = parseOrThrow(announceBody, req.body, 'The hardware announcement');
      if (!ctx.peers.find(req.actor ?? '')) throw new BoxError('E_FORBIDDEN', 'Only an enrolled teaching point announces itself.');
      const url = reachableUrl(b.url, req.ip);
      // The hub later calls this URL with its own box token: it must be the teaching point itself, never a
      // host of the attacker's choosing on the hub's network (a camera, a router, a metadata service).
      if (!(await hostIsCaller(url, req.ip))) {
        ctx.audit.appendCoalesced(`hardware.announce.refused\n${req.actor}`, { actor: req.actor!, action: 'hardware.announce.refused', target: url.slice(0, 200), outcome: 'refused', details: { ip: req.ip } });
        throw new BoxError('E_FORBIDDEN', 'The announced address is not the address this teaching point calls from.', { reason: 'address-mismatch' });
      }
      hw.recordEndpoint(req.actor!, url, b.ptzRoles);
      return reply.code(204).send();
    });

    app.get('/api/hub/teaching-points/ptz', { preHandler: session }, async () => ({ teachingPoints: hw.endpoints() }));

    app.post('/api/hub/teaching-points/:boxId/ptz', { preHandler: session }, async (req, reply) => {
      const { boxId } = parseOrThrow(boxParam, req.params, 'The teaching point');
      const { role, preset } = parseOrThrow(presetRequestSchema, req.body, 'The preset request');
      const audit = (outcome: 'ok' | 'error', details?: Record<string, unknown>) =>
        ctx.audit.append({ actor: req.actor ?? 'unknown', action: 'hardware.ptz.hub', target: `${boxId} ${role}:${preset}`, outcome, ...(details ? { details } : {}) });
      try {
        const r = await hw.presetOnTeachingPoint(boxId, role, preset);
        audit('ok');
        return r;
      } catch (e) {
        // Not reachable at its address (NAT): during its lesson, its own link to the hub carries the request.
        const relayed = (e as BoxError).code === 'E_HUB_UNREACHABLE' && ctx.media
          ? relayPresetOverLesson({ lessons: ctx.media.lessons, control: ctx.media.control, lessonClock: ctx.lessonClock }, boxId, role, preset) : null;
        if (relayed) {
          audit('ok', { relayed: relayed.relayed, lessonId: relayed.lessonId });
          return reply.code(202).send(relayed);
        }
        audit('error', { code: (e as BoxError).code ?? 'E_INTERNAL' });
        throw e;
      }
    });
  }
}
