import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { diskSpace } from '../../hardware/disk.js';
import { probeFfmpeg } from '../../hardware/ffmpeg.js';

describe('disk space', () => {
  it('reports the free space of the temp folder as a positive part of its size', async () => {
    const d = await diskSpace(tmpdir());
    expect(d.path).toBe(tmpdir());
    expect(d.freeBytes).toBeGreaterThan(0);
    expect(d.freeBytes).toBeLessThanOrEqual(d.totalBytes);
    expect(d.availableBytes).toBeLessThanOrEqual(d.freeBytes);
  });

  it('names the path when it cannot be read', async () => {
    await expect(diskSpace('/nonexistent/box-data')).rejects.toThrow('/nonexistent/box-data');
  });
});

describe('ffmpeg probe', () => {
  it('finds the Debian ffmpeg and proves it encodes', async () => {
    const p = await probeFfmpeg();
    expect(p).toMatchObject({ found: true, path: '/usr/bin/ffmpeg', works: true });
    expect(p.version).toMatch(/^\d+\.\d+/);
    expect(p.error).toBeUndefined();
  });

  it('accepts an explicit path', async () => {
    await expect(probeFfmpeg({ ffmpegPath: '/usr/bin/ffmpeg' })).resolves.toMatchObject({ found: true, works: true });
  });

  it('says plainly that ffmpeg is missing instead of throwing', async () => {
    const p = await probeFfmpeg({ ffmpegPath: '/nonexistent/ffmpeg' });
    expect(p.found).toBe(false);
    expect(p.works).toBe(false);
    expect(p.error).toContain('/nonexistent/ffmpeg');
  });

  it('reports a binary that is not ffmpeg as found but not working', async () => {
    const p = await probeFfmpeg({ ffmpegPath: '/bin/false' });
    expect(p).toMatchObject({ found: true, works: false });
    expect(p.error).toMatch(/exit code 1/);
  });
});
