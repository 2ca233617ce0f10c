import { closeSync, createReadStream, fstatSync, openSync } from 'node:fs';
import { extname } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';

const types: Record<string, string> = {
  '.mp4': 'video/mp4', '.webm': 'video/webm', '.mkv': 'video/x-matroska', '.mp3': 'audio/mpeg', '.m4a': 'audio/mp4', '.ogg': 'audio/ogg',
  '.wav': 'audio/wav', '.pdf': 'application/pdf', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp',
  '.gif': 'image/gif', '.svg': 'image/svg+xml', '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.ppt': 'application/vnd.ms-powerpoint', '.zip': 'application/zip', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8', '.epub': 'application/epub+zip',
  // With nosniff a browser runs a script or applies a style only under its own type: HTML5 courseware needs these.
  '.htm': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.otf': 'font/otf',
};

/**
 * Files from the library, the web seed and recordings are content, not the box's UI: they may load only the
 * box's own pictures, media, styles and fonts, call nothing, and no script of theirs runs in the box's origin
 * (where the kiosk keeps its media token). A page or SVG runs sandboxed in an opaque origin (its script, if
 * any, cannot read the kiosk's storage or call the box's API: HTML5 courseware still works). Media, pictures,
 * PDFs and text run no script at all; they keep the origin only because Chromium will not play a video opened
 * on its own in an opaque one (checked: readyState stays 0). Chromium's PDF viewer works under either.
 */
const CONTENT_LIMITS = [
  "default-src 'none'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:", "media-src 'self' blob:", "font-src 'self' data:",
  "connect-src 'none'", "form-action 'none'", "base-uri 'none'", "frame-ancestors 'self'",
];
/** Pages, SVG and anything else that might hold script: an opaque origin. */
export const DOCUMENT_CSP = ['sandbox allow-scripts', "script-src 'self' 'unsafe-inline'", ...CONTENT_LIMITS].join('; ');
/** Types that cannot hold script: no script at all (default-src 'none', sandbox without allow-scripts). */
export const PASSIVE_CSP = ['sandbox allow-same-origin', ...CONTENT_LIMITS].join('; ');
const passive = (type: string) => /^(video|audio)\//.test(type) || (type.startsWith('image/') && type !== 'image/svg+xml') || type === 'application/pdf' || type.startsWith('text/plain');

/** A file opened by the caller (descriptor and size); sendFileWithRange closes it. */
export interface OpenedFile {
  fd: number;
  size: number;
  /** The file's name, for its Content-Type. */
  name: string;
}

/**
 * Sends a file with HTTP Range (RFC 9110 single range): video seeks in any player, and BitTorrent
 * web-seed requests (BEP 19). Returns the number of body bytes it sends. `file` is a path the box chose
 * itself (a recording, a thumbnail) or a file opened without following links (library, web seed).
 */
export function sendFileWithRange(req: FastifyRequest, reply: FastifyReply, file: string | OpenedFile, downloadName?: string): { reply: FastifyReply; bytes: number } {
  const fd = typeof file === 'string' ? openSync(file, 'r') : file.fd;
  let size: number;
  try {
    size = typeof file === 'string' ? fstatSync(fd).size : file.size;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  const type = types[extname(typeof file === 'string' ? file : file.name).toLowerCase()] ?? 'application/octet-stream';
  reply.header('accept-ranges', 'bytes');
  reply.header('content-type', type);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('content-security-policy', passive(type) ? PASSIVE_CSP : DOCUMENT_CSP);
  if (downloadName) reply.header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(downloadName)}`);
  const done = (): { reply: FastifyReply; bytes: number } => {
    closeSync(fd);
    return { reply: reply.send(), bytes: 0 };
  };
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
        return done();
      }
      partial = true;
    }
  }
  const length = size === 0 ? 0 : end - start + 1;
  reply.header('content-length', String(length));
  if (partial) reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
  if (req.method === 'HEAD' || length === 0) return done();
  return { reply: reply.send(createReadStream('', { fd, start, end })), bytes: length };
}
