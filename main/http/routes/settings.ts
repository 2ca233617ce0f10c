import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import type { BoxContext } from '../context.js';
import { requireSession } from '../auth-hooks.js';

// 4–12 digits: PINs provisioned before new ones needed 6 keep working (bundle-maker.ts refuses new short ones).
const pinBody = z.strictObject({ pin: z.string().regex(/^\d{4,12}$/, 'a PIN of 4–12 digits') });
const auditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  action: z.string().max(64).optional(),
});

export async function settingsRoutes(app: FastifyInstance, ctx: BoxContext): Promise<void> {
  const session = requireSession(ctx);

  app.post('/api/settings/session', {
    config: { rateLimit: { max: 30, timeWindow: '1 minute' } },
  }, async (req, reply) => {
    const { pin } = parseOrThrow(pinBody, req.body, 'The PIN');
    const out = ctx.pin.tryPin(pin, req.ip);
    if (out.ok) {
      ctx.audit.append({ actor: 'pin', action: 'settings.unlock', outcome: 'ok', details: { ip: req.ip } });
      return reply.code(201).send({ token: out.token, expiresAt: new Date(out.expiresAt).toISOString() });
    }
    if (out.locked) {
      if (out.justLocked) ctx.metrics.pinLockouts.inc();
      ctx.audit.append({ actor: 'pin', action: out.justLocked ? 'settings.lockout' : 'settings.unlock', outcome: 'refused', details: { ip: req.ip, locked: true, scope: out.scope } });
      reply.header('retry-after', String(out.retryAfterSeconds));
      const who = out.scope === 'box' ? 'from the network (the whiteboard itself still opens them)' : 'from this device';
      throw new BoxError('E_PIN_LOCKED', `Too many wrong PINs. Settings are locked ${who} for ${out.retryAfterSeconds} s.`, { retryAfterSeconds: out.retryAfterSeconds, scope: out.scope });
    }
    ctx.metrics.pinFailures.inc();
    ctx.audit.append({ actor: 'pin', action: 'settings.unlock', outcome: 'refused', details: { ip: req.ip, remainingAttempts: out.remainingAttempts } });
    throw new BoxError('E_PIN_WRONG', `Wrong PIN. ${out.remainingAttempts} attempts left before settings lock.`, { remainingAttempts: out.remainingAttempts });
  });

  app.delete('/api/settings/session', { preHandler: session }, async (req, reply) => {
    const token = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization))?.[1];
    if (token) ctx.pin.endSession(token);
    return reply.code(204).send();
  });

  app.get('/api/settings', { preHandler: session }, async () => ctx.settings.get());

  app.put('/api/settings', { preHandler: session }, async (req) => ctx.settings.update(req.body, req.actor ?? 'unknown'));

  app.get('/api/audit', { preHandler: session }, async (req) => {
    const q = parseOrThrow(auditQuery, req.query, 'The audit query');
    return { entries: ctx.audit.list(q.limit, q.action) };
  });
}
