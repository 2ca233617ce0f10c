import { existsSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BoxError } from '../../../core/errors.js';
import { parseOrThrow } from '../../../core/validation.js';
import { itemKinds } from '../../../sync/manifest.js';
import type { BoxContext } from '../context.js';
import type { SyncServices } from '../../wiring/sync.js';
import { requireSession } from '../auth-hooks.js';
import { sendFileWithRange } from '../range-file.js';

const listQuery = z.strictObject({
  q: z.string().max(100).optional(),
  grade: z.coerce.number().int().min(0).max(12).optional(),
  subject: z.string().max(50).optional(),
  unit: z.string().max(200).optional(),
  kind: z.enum(itemKinds).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});
const idParam = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'an item id') });

/** The offline library: what this box holds, searchable in Chinese, browsable, playable with seeks. */
export async function libraryRoutes(app: FastifyInstance, ctx: BoxContext, sync: SyncServices): Promise<void> {
  const session = requireSession(ctx);

  app.get('/api/library', async (req) => sync.store.library(parseOrThrow(listQuery, req.query, 'The library query')));

  app.get('/api/library/tree', async () => ({ entries: sync.store.browseTree() }));

  const held = (req: FastifyRequest) => heldById(parseOrThrow(idParam, req.params, 'The item').id);
  const heldById = (id: string) => {
    const item = sync.store.item(id);
    const file = item ? sync.engine.heldFile(item.infohash) : undefined;
    if (!item || !file) throw new BoxError('E_NOT_FOUND', `The library has no item ${id} on this box.`);
    return { item, file };
  };

  app.get('/api/library/items/:id', async (req) => {
    const { item } = held(req);
    return { ...item, thumbnail: existsSync(sync.engine.layout.thumb(item.infohash)) ? `/api/library/items/${item.id}/thumbnail` : null, file: `/api/library/items/${item.id}/file` };
  });

  // Files are opened through the sync engine: only the item's own file or its verified listing, no link followed.
  const serve = async (req: FastifyRequest, reply: FastifyReply) => {
    const { item } = held(req);
    const file = await sync.engine.openHeld(item.infohash);
    if (!file) throw new BoxError('E_NOT_FOUND', `${item.id} is a folder: open its files one by one.`);
    sync.store.touch(item.infohash);
    return sendFileWithRange(req, reply, file, item.fileName).reply;
  };
  app.get('/api/library/items/:id/file', serve);

  // A folder item (a digital textbook of many files): its listing, and each file inside it with Range.
  app.get('/api/library/items/:id/files', async (req) => {
    const { item } = held(req);
    if (!item.fileCount) throw new BoxError('E_NOT_FOUND', `${item.id} is a single file, not a folder.`);
    const { offset, limit } = parseOrThrow(z.object({ offset: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(5000).default(500) }), req.query, 'The listing');
    const all = (await sync.engine.heldListing(item.infohash)) ?? [];
    return { total: all.length, files: all.slice(offset, offset + limit).map((p) => `/api/library/items/${item.id}/files/${p.split('/').map(encodeURIComponent).join('/')}`) };
  });
  app.get('/api/library/items/:id/files/*', async (req, reply) => {
    const { id, '*': rel } = req.params as { id: string; '*': string };
    const { item } = heldById(parseOrThrow(idParam, { id }, 'The item').id);
    const file = item.fileCount ? await sync.engine.openHeld(item.infohash, rel) : undefined;
    if (!file) throw new BoxError('E_NOT_FOUND', `${item.id} holds no file ${rel}.`);
    sync.store.touch(item.infohash);
    return sendFileWithRange(req, reply, file).reply;
  });

  app.get('/api/library/items/:id/thumbnail', async (req, reply) => {
    const { item } = held(req);
    const thumb = sync.engine.layout.thumb(item.infohash);
    if (!existsSync(thumb)) throw new BoxError('E_NOT_FOUND', `No thumbnail for ${item.id}.`);
    return sendFileWithRange(req, reply, thumb).reply;
  });

  app.put('/api/library/items/:id/pin', { preHandler: session }, async (req) => {
    const { id } = parseOrThrow(idParam, req.params, 'The item');
    const { pinned } = parseOrThrow(z.strictObject({ pinned: z.boolean() }), req.body, 'The pin');
    const item = sync.store.item(id);
    if (!item) throw new BoxError('E_NOT_FOUND', `The catalogue has no item ${id}.`);
    const ids = new Set(sync.preferences().pinnedItems);
    if (pinned) ids.add(id); else ids.delete(id);
    sync.updatePreferences({ pinnedItems: [...ids] });
    sync.store.setPinned(item.infohash, pinned);
    ctx.audit.append({ actor: req.actor ?? 'unknown', action: pinned ? 'library.pin' : 'library.unpin', target: id, outcome: 'ok' });
    void sync.engine.tick();
    return { id, pinned };
  });
}
