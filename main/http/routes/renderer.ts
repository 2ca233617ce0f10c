// Serves the kiosk / hub console / LAN library (renderer/dist) at / under a strict CSP, plus the two
// small endpoints the UI needs: its display preferences (no PIN) and `box doctor` results (PIN).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { BoxContext } from '../context.js';
import { requireSession } from '../auth-hooks.js';
import { runDoctor } from '../../doctor.js';
import { healthReport } from './health.js';
import type { DoctorReport } from '../../../core/contract/doctor.js';

/**
 * No inline script or style, nothing from another origin: the UI talks only to its own box.
 * blob: for media (MediaStream players) and pdf.js page images; data: images for pdf.js.
 */
export const RENDERER_CSP = [
  "default-src 'self'", "script-src 'self'", "worker-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
  "media-src 'self' blob:", "connect-src 'self'", "font-src 'self' data:", "object-src 'none'", "base-uri 'none'",
  "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/** Screens of the single-page app reachable by path (an opened item is in the query); a reload gets the shell. */
const APP_PATHS = ['/lesson', '/library', '/recordings', '/settings', '/console'];

/** renderer/dist beside the sources: two levels up from dist/main/http/routes or main/http/routes. */
export function rendererDist(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'renderer', 'dist');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

export async function rendererRoutes(app: FastifyInstance, ctx: BoxContext, root = rendererDist()): Promise<void> {
  const session = requireSession(ctx);

  app.get('/api/ui-preferences', async () => {
    const { ui } = ctx.settings.get();
    return { language: ui.language, volume: ui.volume };
  });

  app.get('/api/doctor', { preHandler: session, config: { rateLimit: { max: 6, timeWindow: '1 minute' } } }, async (): Promise<DoctorReport> =>
    runDoctor({ config: ctx.config, provisioning: ctx.provisioning, ownHealth: await healthReport(ctx) }));

  if (!root) {
    ctx.log.warn({ room: 'http' }, 'renderer/dist not built: serving the plain status page at / (run npm run build)');
    const { homeRoutes } = await import('./home.js');
    return homeRoutes(app, ctx);
  }

  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.url.startsWith('/api/')) {
      reply.header('content-security-policy', RENDERER_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
    }
    return payload;
  });

  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    index: 'index.html',
    // Hashed assets never change; the shell and the service worker must be re-checked on every load.
    setHeaders(res, path) {
      res.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  for (const url of APP_PATHS) {
    if (app.hasRoute({ method: 'GET', url })) continue;
    app.get(url, (_req, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
  }
}
