import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { writeFileAtomic } from '../core/atomic-file.js';
import type { ItemKind } from './manifest.js';

const run = promisify(execFile);

/** A 320 px WebP thumbnail for images and a poster frame for videos; other kinds get none. */
export async function makeThumbnail(kind: ItemKind, source: string, target: string): Promise<boolean> {
  mkdirSync(dirname(target), { recursive: true });
  if (kind === 'image') {
    writeFileAtomic(target, await sharp(source).resize({ width: 320, withoutEnlargement: true }).webp({ quality: 70 }).toBuffer());
    return true;
  }
  if (kind === 'video') {
    const frame = `${target}.poster.png`;
    try {
      await run('ffmpeg', ['-v', 'error', '-y', '-ss', '0.5', '-i', source, '-frames:v', '1', frame], { timeout: 30_000 });
      writeFileAtomic(target, await sharp(frame).resize({ width: 320, withoutEnlargement: true }).webp({ quality: 70 }).toBuffer());
      return true;
    } finally {
      rmSync(frame, { force: true });
    }
  }
  return false;
}
