import Fastify, { type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { BoxContext } from './context.js';
import { clientErrorHandler, notFound, sendError } from './errors.js';
import { refuseControlCharacters } from './control-chars.js';
import { healthRoutes } from './routes/health.js';
import { settingsRoutes } from './routes/settings.js';
import { enrolmentRoutes } from './routes/enrolment.js';
import { peerRoutes } from './routes/peer.js';
import { hubPairingRoutes } from './routes/hub-pairing.js';
import { whipWhepRoutes } from './routes/whip-whep.js';
import { lessonRoutes } from './routes/lessons.js';
import { controlRoutes } from './routes/control.js';
import { catalogRoutes } from './routes/catalog.js';
import { libraryRoutes } from './routes/library.js';
import { rendererRoutes } from './routes/renderer.js';
import { hardwareRoutes } from './routes/hardware.js';
import { recordingRoutes } from './routes/recordings.js';

/** Builds the box's HTTP API; each room's routes are a plugin taking the box context. */
export async function buildServer(ctx: BoxContext): Promise<FastifyInstance> {
  const log = ctx.log.child({ room: 'http' });
  const app = Fastify({
    // Our own pino child logs errors and slow paths; fastify's per-request logging stays off.
    logger: false,
    bodyLimit: ctx.config.limits.bodyBytes,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    // A half-open connection (a kiosk pre-connecting, a stalled client) must not hold up shutdown.
    forceCloseConnections: true,
    // Bad percent-encoding, over-long parameters: answered like every other error, with a code.
    frameworkErrors: (err, _req, reply) => sendError(reply, err, log),
    clientErrorHandler,
  });
  await app.register(rateLimit, { global: false });

  app.setErrorHandler((err, _req, reply) => sendError(reply, err instanceof Error ? err : new Error(String(err)), log));
  refuseControlCharacters(app);
  app.setNotFoundHandler(notFound);
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    ctx.metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) log.error({ method: req.method, url: req.url, status: reply.statusCode }, 'request failed');
  });

  await app.register(async (a) => healthRoutes(a, ctx));
  await app.register(async (a) => rendererRoutes(a, ctx));
  await app.register(async (a) => settingsRoutes(a, ctx));
  await app.register(async (a) => peerRoutes(a, ctx));
  if (ctx.role === 'hub') await app.register(async (a) => enrolmentRoutes(a, ctx));
  if (ctx.role === 'teaching-point') await app.register(async (a) => hubPairingRoutes(a, ctx));
  const sync = ctx.sync;
  if (sync) {
    await app.register(async (a) => catalogRoutes(a, ctx, sync));
    await app.register(async (a) => libraryRoutes(a, ctx, sync));
  }
  if (ctx.media) {
    await app.register(async (a) => whipWhepRoutes(a, ctx));
    await app.register(async (a) => lessonRoutes(a, ctx));
    await app.register(async (a) => controlRoutes(a, ctx));
    const recordings = ctx.recordings;
    if (recordings) await app.register(async (a) => recordingRoutes(a, ctx, recordings));
  }
  const hardware = ctx.hardware;
  if (hardware) await app.register(async (a) => hardwareRoutes(a, ctx, hardware));
  return app;
}
