import Fastify, { type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { BoxContext } from './context.js';
import { notFound, sendError } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { settingsRoutes } from './routes/settings.js';
import { enrolmentRoutes } from './routes/enrolment.js';
import { peerRoutes } from './routes/peer.js';
import { homeRoutes } from './routes/home.js';

/** Builds the box's HTTP API; each room's routes are a plugin taking the box context. */
export async function buildServer(ctx: BoxContext): Promise<FastifyInstance> {
  const log = ctx.log.child({ room: 'http' });
  const app = Fastify({
    // Our own pino child logs errors and slow paths; fastify's per-request logging stays off.
    logger: false,
    bodyLimit: ctx.config.limits.bodyBytes,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
  });
  await app.register(rateLimit, { global: false });

  app.setErrorHandler((err, _req, reply) => sendError(reply, err instanceof Error ? err : new Error(String(err)), log));
  app.setNotFoundHandler(notFound);
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    ctx.metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) log.error({ method: req.method, url: req.url, status: reply.statusCode }, 'request failed');
  });

  await app.register(async (a) => healthRoutes(a, ctx));
  await app.register(async (a) => homeRoutes(a, ctx));
  await app.register(async (a) => settingsRoutes(a, ctx));
  await app.register(async (a) => peerRoutes(a, ctx));
  if (ctx.role === 'hub') await app.register(async (a) => enrolmentRoutes(a, ctx));
  return app;
}
