import type { FastifyInstance } from 'fastify';
import { diskSpace } from '../../../hardware/disk.js';
import type { BoxContext } from '../context.js';
import type { HealthReport } from '../../../core/contract/health.js';

async function disk(path: string): Promise<HealthReport['disk']> {
  try {
    const s = await diskSpace(path);
    return { freeBytes: s.availableBytes, totalBytes: s.totalBytes };
  } catch {
    return { freeBytes: null, totalBytes: null };
  }
}

export async function healthReport(ctx: BoxContext): Promise<HealthReport> {
  const d = await disk(ctx.config.dataDir);
  const hub = ctx.hubLink?.snapshot();
  const now = ctx.clock.now();
  return {
    status: 'ok',
    role: ctx.role,
    provisioned: ctx.provisioning !== undefined,
    boxId: ctx.identity.boxId,
    publicKey: ctx.identity.publicKey,
    name: ctx.provisioning?.name ?? null,
    schoolId: ctx.provisioning?.schoolId ?? null,
    version: ctx.version,
    uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
    disk: d,
    clock: { now: new Date(now).toISOString(), systemNow: new Date().toISOString(), offsetFromHubMs: hub ? hub.clockOffsetMs : null },
    identity: ctx.identityNotice
      ? { createdAt: ctx.identity.createdAt, notice: ctx.identityNotice.reason, previousBoxId: ctx.identityNotice.previousBoxId ?? null }
      : { createdAt: ctx.identity.createdAt, notice: null, previousBoxId: null },
    hub: hub
      ? { url: hub.url, boxId: hub.boxId, reachable: hub.reachable, lastContactAt: hub.lastContactAt ? new Date(hub.lastContactAt).toISOString() : null, enrolled: hub.enrolled, problem: hub.enrolmentProblem ?? hub.lastError }
      : null,
    hardware: ctx.hardware ? await ctx.hardware.health() : null,
    recording: ctx.recordings ? ctx.recordings.catalogue.status() : null,
    recordingTransfers: ctx.recordings ? ctx.recordings.transfers() : null,
  };
}

export async function healthRoutes(app: FastifyInstance, ctx: BoxContext): Promise<void> {
  app.get('/api/health', async () => healthReport(ctx));

  app.get('/metrics', async (_req, reply) => {
    ctx.metrics.uptime.set((Date.now() - ctx.startedAt) / 1000);
    const d = await disk(ctx.config.dataDir);
    if (d.freeBytes !== null) ctx.metrics.diskFree.set(d.freeBytes);
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
}
