import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import type { BoxContext } from '../context.js';
import { requireSession } from '../auth-hooks.js';
import { auditExport } from '../audit-export.js';
import { bearer } from '../../../core/bearer.js';

// 4–12 digits: PINs provisioned before new ones needed 6 keep working (bundle-maker.ts refuses new short ones).
const pinBody = z.strictObject({ pin: z.string().regex(/^\d{4,12}$/, 'a PIN of 4–12 digits') });
const exportQuery = z.strictObject({ format: z.enum(['csv', 'jsonl']).default('csv') });
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
      const entry = { actor: 'pin', action: out.justLocked ? 'settings.lockout' : 'settings.unlock', outcome: 'refused' as const, details: { ip: req.ip, locked: true, scope: out.scope } };
      // Each lockout is a row; tries while locked (what a flood is) are coalesced per source a minute.
      // Wrong PINs stay one row each: the lockout itself bounds them (a few per source per lockout).
      if (out.justLocked) ctx.audit.append(entry);
      else ctx.audit.appendCoalesced(`settings.unlock\n${req.ip}\nlocked`, entry);
      reply.header('retry-after', String(out.retryAfterSeconds));
      const who = out.scope === 'box' ? 'from the network (the whiteboard itself still opens them)' : 'from this device';
      throw new BoxError('E_PIN_LOCKED', `Too many wrong PINs. Settings are locked ${who} for ${out.retryAfterSeconds} s.`, { retryAfterSeconds: out.retryAfterSeconds, scope: out.scope });
    }
    ctx.metrics.pinFailures.inc();
    ctx.audit.append({ actor: 'pin', action: 'settings.unlock', outcome: 'refused', details: { ip: req.ip, remainingAttempts: out.remainingAttempts } });
    throw new BoxError('E_PIN_WRONG', `Wrong PIN. ${out.remainingAttempts} attempts left before settings lock.`, { remainingAttempts: out.remainingAttempts });
  });

  app.delete('/api/settings/session', { preHandler: session }, async (req, reply) => {
    const token = bearer(req.headers.authorization);
    if (token) ctx.pin.endSession(token);
    return reply.code(204).send();
  });

  app.get('/api/settings', { preHandler: session }, async () => ctx.settings.get());

  app.put('/api/settings', { preHandler: session }, async (req) => ctx.settings.update(req.body, req.actor ?? 'unknown'));

  app.get('/api/audit', { preHandler: session }, async (req) => {
    const q = parseOrThrow(auditQuery, req.query, 'The audit query');
    return { entries: ctx.audit.list(q.limit, q.action) };
  });

  // The whole audit log as a file for a reviewer (等级保护): CSV for Excel/WPS, or JSON lines.
  app.get('/api/audit/export', { preHandler: session }, async (req, reply) => {
    const { format } = parseOrThrow(exportQuery, req.query, 'The audit export');
    ctx.audit.append({ actor: req.actor ?? 'unknown', action: 'audit.export', outcome: 'ok', details: { format, ip: req.ip } });
    const day = new Date(ctx.clock.now()).toISOString().slice(0, 10);
    const name = `审计日志-${ctx.provisioning?.name ?? ctx.identity.boxId}-${day}.${format}`;
    return reply
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit-${day}.${format}"; filename*=UTF-8''${encodeURIComponent(name)}`)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(auditExport(ctx.audit, format));
  });
}
