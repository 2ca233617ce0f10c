import { pipeline, Readable } from 'node:stream';
import { closeSync, createReadStream, fstatSync, openSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler } from 'fastify';
import { z } from 'zod';
import { BoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import { retargetTorrent } from '../../../sync/torrent-files.js';
import { manifestEtag } from '../../../sync/manifest.js';
import type { BoxContext } from '../context.js';
import type { SyncServices } from '../../wiring/sync.js';
import { requireSession } from '../auth-hooks.js';
import { sendFileWithRange } from '../range-file.js';
import { SharedRateLimit, ThrottleStream } from '../throttle.js';

const infohashParam = z.strictObject({ infohash: z.string().regex(/^[0-9a-f]{40}$/, 'a 40-character hex infohash') });
const torrentParam = z.strictObject({ name: z.string().regex(/^[0-9a-f]{40}\.torrent$/, '<infohash>.torrent') });

/**
 * The stable resource paths of DESIGN.md §3 (`/catalog/manifest.json`, `/catalog/torrents/<infohash>.torrent`,
 * Range-capable files) plus the private tracker and the box's own sync API.
 */
export async function catalogRoutes(app: FastifyInstance, ctx: BoxContext, sync: SyncServices): Promise<void> {
  const selfUrl = () => sync.selfUrl();
  const session = requireSession(ctx);

  app.get('/catalog/manifest.json', async (req, reply) => {
    const version = sync.store.currentVersion();
    if (version !== null && req.headers['if-none-match'] === manifestEtag(version)) {
      return reply.code(304).header('etag', manifestEtag(version)).header('cache-control', 'no-cache').send();
    }
    const path = sync.engine.manifestPath();
    if (!path || version === null) throw new BoxError('E_NOT_FOUND', 'This box holds no catalogue manifest yet.');
    // Opened before replying: a newer manifest may replace the file meanwhile, the open descriptor keeps these bytes.
    const fd = openSync(path, 'r');
    return reply.type('application/json; charset=utf-8').header('cache-control', 'no-cache').header('etag', manifestEtag(version))
      .header('content-length', fstatSync(fd).size).send(createReadStream('', { fd }));
  });

  app.get('/catalog/torrents/:name', async (req, reply) => {
    const { name } = parseOrThrow(torrentParam, req.params, 'The torrent name');
    const ih = name.slice(0, 40);
    const raw = sync.store.torrent(ih);
    const item = sync.store.itemsByInfohash(ih)[0];
    if (!raw || !item) throw new BoxError('E_NOT_FOUND', `This box has no torrent ${ih}.`);
    // Same infohash, with this box as tracker and (when it holds the file) web seed, so any client can fetch it.
    const held = sync.engine.heldFile(ih);
    const trackers = sync.tracker ? [`${selfUrl()}/announce`] : sync.engine.sources().map((s) => `${s}/announce`);
    const seeds = [...(held ? [`${selfUrl()}/catalog/files/${ih}`] : []), ...item.webSeeds];
    const out = await retargetTorrent(raw, trackers, seeds);
    return reply.type('application/x-bittorrent').header('content-disposition', `attachment; filename="${ih}.torrent"`).send(Buffer.from(out));
  });

  // The web seed is an upload like the BitTorrent one, so it keeps to the same plan (sync/bandwidth.ts): one
  // bucket at the plan's upload rate shared by every web-seed response, refused while the plan lets nothing
  // up (a lesson with no share for sync). Without this a box fetching from the web seed took the whole link
  // during a live lesson. (Its budget is its own: BitTorrent and web seed may each use the upload rate.)
  const webSeedRate = new SharedRateLimit(() => sync.engine.currentPlan().uploadBps);
  const refusePaused = (reply: FastifyReply): FastifyReply | undefined => {
    const plan = sync.engine.currentPlan();
    if (plan.uploadBps !== 0) return undefined;
    return reply.code(503).header('retry-after', '60').type('application/json; charset=utf-8').send({
      code: 'E_SYNC_PAUSED', message: 'Sync uploads are paused on this box (a live lesson has the link); try again later.', reason: plan.reason,
    });
  };
  // Bytes count as they leave (an aborted response counts what it sent, not its Content-Length).
  const throttleBody: onSendHookHandler = (_req, _reply, payload, done) => {
    if (!(payload instanceof Readable)) return done(null, payload);
    const t = new ThrottleStream(webSeedRate, { onBytes: (n) => { sync.webSeedBytes.value += n; } });
    pipeline(payload, t, () => { /* fastify sees the throttle's end or error */ });
    return done(null, t);
  };

  // Opened through the sync engine: the item's own file, or a file its verified listing names; no link followed.
  const serveFile = async (req: FastifyRequest, reply: FastifyReply) => {
    const { infohash } = parseOrThrow(infohashParam, req.params, 'The file');
    const file = await sync.engine.openHeld(infohash);
    if (!file) throw new BoxError('E_NOT_FOUND', `This box does not hold ${infohash} (yet).`);
    const paused = refusePaused(reply);
    if (paused) { closeSync(file.fd); return paused; }
    return sendFileWithRange(req, reply, file, file.item.fileName).reply;
  };
  app.get('/catalog/files/:infohash', { onSend: throttleBody }, serveFile);
  // Web seeds of a folder item ask for `<base>/<folder name>/<path>` (BEP 19, multi-file).
  app.get('/catalog/files/:infohash/*', { onSend: throttleBody }, async (req, reply) => {
    const { infohash, '*': rest } = req.params as { infohash: string; '*': string };
    parseOrThrow(infohashParam, { infohash }, 'The file');
    const held = sync.engine.heldFile(infohash);
    const rel = rest.replace(/^\/+/, '');
    const prefix = `${held?.item.fileName}/`;
    const file = held?.item.fileCount && rel.startsWith(prefix) ? await sync.engine.openHeld(infohash, rel.slice(prefix.length)) : undefined;
    if (!file) throw new BoxError('E_NOT_FOUND', `This box does not hold ${infohash}/${rel}.`);
    const paused = refusePaused(reply);
    if (paused) { closeSync(file.fd); return paused; }
    return sendFileWithRange(req, reply, file).reply;
  });

  if (sync.tracker) {
    const tracker = sync.tracker;
    for (const path of ['/announce', '/scrape']) {
      app.get(path, async (req, reply) => {
        reply.hijack();
        tracker.handle(req.raw, reply.raw);
      });
    }
  }

  app.get('/api/catalog/status', async () => ({
    ...sync.engine.status(), webSeedBytes: sync.webSeedBytes.value, sources: sync.engine.sources(),
  }));

  app.post('/api/catalog/refresh', { preHandler: session }, async () => {
    const result = await sync.engine.refreshManifest();
    void sync.engine.tick();
    return { result: result ?? null, status: sync.engine.status() };
  });

  app.get('/api/catalog/preferences', { preHandler: session }, async () => sync.preferences());

  app.put('/api/catalog/preferences', { preHandler: session }, async (req) => {
    const prefs = sync.updatePreferences(req.body);
    ctx.audit.append({ actor: req.actor ?? 'unknown', action: 'sync.preferences.update', outcome: 'ok', details: { changed: req.body as Record<string, unknown> } });
    void sync.engine.tick({ refresh: true });
    return prefs;
  });

  app.put('/api/catalog/lesson-active', { preHandler: session }, async (req) => {
    const { active } = parseOrThrow(z.strictObject({ active: z.boolean() }), req.body, 'The lesson state');
    sync.setLessonActive(active);
    return sync.engine.status().plan;
  });
}
