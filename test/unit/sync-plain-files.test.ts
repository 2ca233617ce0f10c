// Items from outside are plain files: the listing refuses (never skips) links, FIFOs and sockets, and the torrent
// used for the infohash check is built from exactly the listed files yet gives the infohash `box publish` gives.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isBoxError } from '../../core/errors.js';
import { folderFiles, folderListing, verifyItemFiles } from '../../sync/item-files.js';
import { openPlainFile, plainFiles } from '../../sync/plain-files.js';
import { makeTorrent, torrentInfo, torrentOfFiles } from '../../sync/torrent-files.js';
import type { CatalogItem } from '../../sync/manifest.js';
import { tempDir } from '../support/boxes.js';

const codeOf = (fn: () => unknown) => {
  try { fn(); } catch (e) { return isBoxError(e) ? e.code : String(e); }
  return 'accepted';
};

describe('plain files from outside', () => {
  it('refuses a link, FIFO or socket anywhere in a folder, whatever its name', () => {
    const tmp = tempDir('box-plain-');
    try {
      const secret = join(tmp.path, 'secret.txt');
      writeFileSync(secret, 'not for the library');
      for (const name of ['.hidden', 'Thumbs.db', 'notes~', 'chapter2.html', 'sub/.deep']) {
        const folder = join(tmp.path, `f-${name.replace(/\W/g, '_')}`);
        mkdirSync(join(folder, 'sub'), { recursive: true });
        writeFileSync(join(folder, 'page1.html'), '<p>1</p>');
        symlinkSync(secret, join(folder, name));
        expect(codeOf(() => plainFiles(folder)), name).toBe('E_ITEM_NOT_PLAIN');
        expect(codeOf(() => folderFiles(folder)), name).toBe('E_ITEM_NOT_PLAIN');
      }
      const fifo = join(tmp.path, 'fifo');
      mkdirSync(fifo);
      execFileSync('mkfifo', [join(fifo, '.pipe')]);
      expect(codeOf(() => plainFiles(fifo))).toBe('E_ITEM_NOT_PLAIN');
      const linkedDir = join(tmp.path, 'linked-dir');
      mkdirSync(linkedDir);
      symlinkSync(tmp.path, join(linkedDir, '.up'));
      expect(codeOf(() => plainFiles(linkedDir))).toBe('E_ITEM_NOT_PLAIN');
      // The folder itself a link to a plain folder: refused too.
      symlinkSync(join(tmp.path, 'f-_hidden'), join(tmp.path, 'root-link'));
      expect(codeOf(() => plainFiles(join(tmp.path, 'root-link')))).toBe('E_ITEM_NOT_PLAIN');
    } finally {
      tmp.remove();
    }
  });

  it('verifies a one-file item only when it is a plain file, not a link to the right bytes', async () => {
    const tmp = tempDir('box-plain-');
    try {
      const bytes = randomBytes(1000);
      mkdirSync(join(tmp.path, 'ih'));
      writeFileSync(join(tmp.path, 'real.bin'), bytes);
      symlinkSync(join(tmp.path, 'real.bin'), join(tmp.path, 'ih', 'a.bin'));
      const { createHash } = await import('node:crypto');
      const item = { fileName: 'a.bin', size: 1000, sha256: createHash('sha256').update(bytes).digest('hex') } as CatalogItem;
      await expect(verifyItemFiles(join(tmp.path, 'ih'), item)).rejects.toMatchObject({ code: 'E_ITEM_NOT_PLAIN' });
    } finally {
      tmp.remove();
    }
  });

  it('opens a file only when no part of its path is a link', () => {
    const tmp = tempDir('box-plain-');
    try {
      const base = join(tmp.path, 'item');
      mkdirSync(join(base, '第1章'), { recursive: true });
      writeFileSync(join(base, '第1章', 'a.txt'), 'one');
      writeFileSync(join(tmp.path, 'outside.txt'), 'outside');
      symlinkSync(join(tmp.path, 'outside.txt'), join(base, 'b.txt'));
      symlinkSync(tmp.path, join(base, 'up'));
      const ok = openPlainFile(base, ['第1章', 'a.txt']);
      expect(ok?.size).toBe(3);
      const buf = Buffer.alloc(3);
      readSync(ok!.fd, buf);
      closeSync(ok!.fd);
      expect(buf.toString()).toBe('one');
      expect(openPlainFile(base, ['b.txt'])).toBeUndefined();
      expect(openPlainFile(base, ['up', 'outside.txt'])).toBeUndefined();
      expect(openPlainFile(base, ['第1章'])).toBeUndefined();
    } finally {
      tmp.remove();
    }
  });

  it('builds from the listed files the infohash create-torrent gives (folder and single file)', async () => {
    const tmp = tempDir('box-plain-');
    try {
      const folder = join(tmp.path, '练习册');
      // Names whose order differs between whole-path code-unit order and create-torrent's folder-by-folder byte order.
      for (const rel of ['a/b.txt', 'a-c.txt', 'B.txt', 'é.txt', '中/文.txt', 'a b/x.bin', 'Z/y/z.bin']) {
        mkdirSync(join(folder, ...rel.split('/').slice(0, -1)), { recursive: true });
        writeFileSync(join(folder, ...rel.split('/')), randomBytes(1 + Math.floor(Math.random() * 400_000)));
      }
      const ours = await torrentInfo(await torrentOfFiles(folder, '练习册', folderFiles(folder)));
      const theirs = await torrentInfo(await makeTorrent(folder, '练习册', { trackers: [], webSeeds: [] }));
      expect(ours.infoHash).toBe(theirs.infoHash);
      const single = join(tmp.path, 'video.webm');
      writeFileSync(single, randomBytes(700_000));
      expect((await torrentInfo(await torrentOfFiles(single, 'video.webm', null))).infoHash)
        .toBe((await torrentInfo(await makeTorrent(single, 'video.webm', { trackers: [], webSeeds: [] }))).infoHash);
      expect((await folderListing(folder)).count).toBe(7);
    } finally {
      tmp.remove();
    }
  });
});
