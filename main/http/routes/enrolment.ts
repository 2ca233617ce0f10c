import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import { canonicalJson } from '../../../core/canonical-json.js';
import { signDocument, verifyBytes } from '../../../core/signing.js';
import { boxIdOf } from '../../../core/identity.js';
import { publicKeySchema } from '../../../core/config.js';
import type { BoxContext } from '../context.js';
import { requireSession } from '../auth-hooks.js';

const enrolBody = z.strictObject({
  code: z.string().regex(/^[A-Za-z0-9]{4}-[A-Za-z0-9]{4}$/, 'an enrolment code like ABCD-1234'),
  boxId: z.string().regex(/^box-[0-9a-f]{16}$/, 'a box id like box-0123456789abcdef'),
  publicKey: publicKeySchema,
  hubBoxId: z.string().max(40),
  at: z.number().int().nonnegative(),
  name: z.string().trim().min(1).max(100),
  schoolId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a school id'),
  role: z.literal('teaching-point'),
  proof: z.string().min(1).max(200),
});
const codeBody = z.strictObject({
  label: z.string().trim().min(1).max(100),
  ttlHours: z.number().int().min(1).max(24 * 90).default(24 * 7),
});
const boxParam = z.strictObject({ boxId: z.string().regex(/^box-[0-9a-f]{16}$/, 'a box id like box-0123456789abcdef') });

/** Hub side of enrolment: one-time codes (behind the PIN) and the public enrol call. */
export async function enrolmentRoutes(app: FastifyInstance, ctx: BoxContext): Promise<void> {
  const session = requireSession(ctx);

  app.post('/api/enrol', { config: { rateLimit: { max: 20, timeWindow: '1 minute' } } }, async (req, reply) => {
    const b = parseOrThrow(enrolBody, req.body, 'The enrolment request');
    const refuse = (why: string, message: string): never => {
      // Coalesced per source and reason, like refused tokens: guessing codes costs one row a minute.
      ctx.audit.appendCoalesced(`enrolment.refused\n${req.ip}\n${why}`, { actor: b.boxId, action: 'enrolment.request', target: b.name, outcome: 'refused', details: { why, ip: req.ip } });
      throw new BoxError('E_ENROL_CODE', message, { why });
    };
    if (b.hubBoxId !== ctx.identity.boxId) refuse('wrong-hub', 'This enrolment is meant for another hub.');
    if (b.boxId !== boxIdOf(b.publicKey)) refuse('bad-box-id', 'The box id does not belong to the public key sent.');
    const claim = { code: b.code, boxId: b.boxId, publicKey: b.publicKey, hubBoxId: b.hubBoxId, at: b.at };
    if (!verifyBytes(b.publicKey, Buffer.from(canonicalJson(claim)), b.proof)) refuse('bad-proof', 'The enrolment request is not signed by the key it carries.');
    const check = ctx.codes.check(b.code);
    if (check !== 'ok') refuse(`code-${check}`, `The enrolment code is ${check === 'unknown' ? 'not known to this hub' : check}. Ask for a new code on the hub.`);
    const enrolled = ctx.db.transaction(() => {
      if (!ctx.codes.use(b.code, b.boxId)) return false;
      ctx.peers.enrol({ boxId: b.boxId, publicKey: b.publicKey, name: b.name, schoolId: b.schoolId, role: b.role });
      ctx.audit.append({ actor: b.boxId, action: 'enrolment.request', target: b.name, outcome: 'ok', details: { ip: req.ip } });
      return true;
    })();
    if (!enrolled) refuse('code-used', 'The enrolment code is used. Ask for a new code on the hub.');
    const answer = signDocument(ctx.identity, { hubBoxId: ctx.identity.boxId, boxId: b.boxId, hubTime: ctx.clock.now(), hubName: ctx.provisioning?.name ?? null });
    return reply.code(201).send(answer);
  });

  app.post('/api/admin/enrolment-codes', { preHandler: session }, async (req, reply) => {
    const b = parseOrThrow(codeBody, req.body, 'The enrolment code request');
    const created = ctx.codes.create(b.label, b.ttlHours);
    ctx.audit.append({ actor: req.actor ?? 'unknown', action: 'enrolment.code.create', target: b.label, outcome: 'ok', details: { expiresAt: created.expiresAt } });
    return reply.code(201).send({ code: created.code, label: b.label, expiresAt: new Date(created.expiresAt).toISOString() });
  });

  app.get('/api/admin/boxes', { preHandler: session }, async () => ({
    boxes: ctx.peers.list().map((p) => ({ ...p, enrolledAt: new Date(p.enrolledAt).toISOString(), revokedAt: p.revokedAt ? new Date(p.revokedAt).toISOString() : null, lastSeenAt: p.lastSeenAt ? new Date(p.lastSeenAt).toISOString() : null })),
  }));

  app.post('/api/admin/boxes/:boxId/revoke', { preHandler: session }, async (req) => {
    const { boxId } = parseOrThrow(boxParam, req.params, 'The box id');
    if (!ctx.peers.find(boxId)) throw new BoxError('E_NOT_FOUND', `No enrolled box ${boxId}.`);
    const changed = ctx.peers.revokeBox(boxId);
    ctx.audit.append({ actor: req.actor ?? 'unknown', action: 'box.revoke', target: boxId, outcome: 'ok', details: { changed } });
    return { boxId, status: 'revoked' };
  });
}
