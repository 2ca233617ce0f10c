import { createReadStream, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';

const types: Record<string, string> = {
  '.mp4': 'video/mp4', '.webm': 'video/webm', '.mkv': 'video/x-matroska', '.mp3': 'audio/mpeg', '.m4a': 'audio/mp4', '.ogg': 'audio/ogg',
  '.wav': 'audio/wav', '.pdf': 'application/pdf', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp',
  '.gif': 'image/gif', '.svg': 'image/svg+xml', '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.ppt': 'application/vnd.ms-powerpoint', '.zip': 'application/zip', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8', '.epub': 'application/epub+zip',
};

/**
 * Sends a file with HTTP Range (RFC 9110 single range): video seeks in any player, and BitTorrent
 * web-seed requests (BEP 19). Returns the number of body bytes it sends.
 */
export function sendFileWithRange(req: FastifyRequest, reply: FastifyReply, path: string, downloadName?: string): { reply: FastifyReply; bytes: number } {
  const size = statSync(path).size;
  reply.header('accept-ranges', 'bytes');
  reply.header('content-type', types[extname(path).toLowerCase()] ?? 'application/octet-stream');
  if (downloadName) reply.header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(downloadName)}`);
  const range = req.headers.range;
  let start = 0;
  let end = size - 1;
  let partial = false;
  if (typeof range === 'string' && range.length > 0) {
    const m = /^bytes=(\d*)-(\d*)(?:,.*)?$/.exec(range.trim());
    if (m && (m[1] || m[2])) {
      if (m[1]) {
        start = Number(m[1]);
        end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      } else {
        start = Math.max(0, size - Number(m[2]));
      }
      if (start > end || start >= size) {
        reply.code(416).header('content-range', `bytes */${size}`);
        return { reply: reply.send(), bytes: 0 };
      }
      partial = true;
    }
  }
  const length = size === 0 ? 0 : end - start + 1;
  reply.header('content-length', String(length));
  if (partial) reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
  if (req.method === 'HEAD' || length === 0) return { reply: reply.send(), bytes: 0 };
  return { reply: reply.send(createReadStream(path, { start, end })), bytes: length };
}
