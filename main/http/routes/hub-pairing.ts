import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import type { BoxContext } from '../context.js';
import { requireSession } from '../auth-hooks.js';

const codeBody = z.strictObject({ code: z.string().trim().regex(/^[A-Za-z0-9]{4}-[A-Za-z0-9]{4}$/, 'an enrolment code like ABCD-2345').transform((c) => c.toUpperCase()) });

/** Teaching point: the technician types the code shown on the hub (behind the PIN). */
export async function hubPairingRoutes(app: FastifyInstance, ctx: BoxContext): Promise<void> {
  app.post('/api/hub/enrolment', { preHandler: requireSession(ctx) }, async (req) => {
    const link = ctx.hubLink;
    if (!link) throw new BoxError('E_WRONG_ROLE', 'Only a teaching point enrols with a hub.');
    const { code } = parseOrThrow(codeBody, req.body, 'The enrolment code');
    ctx.audit.append({ actor: req.actor ?? 'unknown', action: 'enrolment.code.enter', target: link.snapshot().boxId, outcome: 'ok' });
    const status = await link.enrolWithCode(code);
    if (!status.enrolled) {
      throw new BoxError('E_ENROL_CODE', `The hub did not accept the code (${status.enrolmentProblem ?? status.lastError ?? 'no answer'}).`, { hub: status });
    }
    return { hub: status };
  });
}
