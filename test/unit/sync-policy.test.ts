import { describe, expect, it } from 'vitest';
import { bandwidthPlan, insideWindow, type BandwidthInputs } from '../../sync/bandwidth.js';
import { chooseEvictions, shortfall } from '../../sync/storage.js';
import { sanitizeFileName } from '../../sync/publish.js';
import { fullBitfield, countBits } from '../../sync/torrent-files.js';
import { tinyPdf } from '../../main/demo/catalog.js';

const base: BandwidthInputs = { lessonSharePercent: 10, uploadLimitKbps: null, downloadLimitKbps: null, window: null, linkKbps: 2000, lessonActive: false, minuteOfDay: 600 };

describe('bandwidth policy', () => {
  it('runs at full speed outside lessons', () => {
    expect(bandwidthPlan(base)).toEqual({ paused: false, downloadBps: -1, uploadBps: -1, reason: 'open' });
  });
  it('keeps 10 % of a 2 Mbit/s link during a live lesson', () => {
    const p = bandwidthPlan({ ...base, lessonActive: true });
    expect(p.downloadBps).toBe(25_000);
    expect(p.uploadBps).toBe(25_000);
    expect(p.reason).toBe('lesson-share');
  });
  it('pauses during a lesson when the share is 0 or the link rate unknown', () => {
    expect(bandwidthPlan({ ...base, lessonActive: true, lessonSharePercent: 0 }).paused).toBe(true);
    expect(bandwidthPlan({ ...base, lessonActive: true, linkKbps: null }).paused).toBe(true);
  });
  it('applies the global limits and the lower of limit and share', () => {
    expect(bandwidthPlan({ ...base, downloadLimitKbps: 800 }).downloadBps).toBe(100_000);
    expect(bandwidthPlan({ ...base, lessonActive: true, downloadLimitKbps: 80 }).downloadBps).toBe(10_000);
  });
  it('syncs only inside the time window, also across midnight', () => {
    const nights = { start: '22:00', end: '06:00' };
    expect(insideWindow(nights, 23 * 60)).toBe(true);
    expect(insideWindow(nights, 5 * 60 + 59)).toBe(true);
    expect(insideWindow(nights, 12 * 60)).toBe(false);
    expect(bandwidthPlan({ ...base, window: nights, minuteOfDay: 12 * 60 })).toMatchObject({ paused: true, reason: 'outside-window' });
  });
});

describe('storage policy', () => {
  it('computes the shortfall under quota and reserve', () => {
    expect(shortfall({ usedBytes: 900, quotaBytes: 1000, reserveBytes: 0, freeBytes: 1e9 }, 300)).toBe(200);
    expect(shortfall({ usedBytes: 0, quotaBytes: null, reserveBytes: 500, freeBytes: 600 }, 300)).toBe(200);
    expect(shortfall({ usedBytes: 0, quotaBytes: null, reserveBytes: 0, freeBytes: 600 }, 300)).toBe(0);
  });
  it('evicts least recently used first, and says when it cannot cover the need', () => {
    const c = [{ infohash: 'new', size: 100, lastUsedAt: 30 }, { infohash: 'old', size: 100, lastUsedAt: 10 }, { infohash: 'mid', size: 100, lastUsedAt: 20 }];
    expect(chooseEvictions(c, 150)!.map((x) => x.infohash)).toEqual(['old', 'mid']);
    expect(chooseEvictions(c, 1000)).toBeUndefined();
    expect(chooseEvictions(c, 0)).toEqual([]);
  });
});

describe('publishing helpers', () => {
  it('sanitizes file names for web seeds (no #, %, dotfiles), keeping Chinese and spaces', () => {
    expect(sanitizeFileName('第1课 #2 100%.mp4')).toBe('第1课 _2 100_.mp4');
    expect(sanitizeFileName('.hidden.pdf')).toBe('hidden.pdf');
    expect(sanitizeFileName('分数的初步认识.pdf')).toBe('分数的初步认识.pdf');
  });
  it('builds full bitfields with the right number of pieces', () => {
    const bf = fullBitfield(13);
    expect(bf.length).toBe(2);
    expect(countBits(bf, 13)).toBe(13);
    expect(bf[1]).toBe(0b11111000);
  });
  it('writes PDFs that a real PDF reader (pdf.js) opens and reads', async () => {
    const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
    const doc = await pdfjs.getDocument({ data: new Uint8Array(tinyPdf(['Grade 3 Mathematics', 'Unit 8 (fractions)'])), verbosity: 0 }).promise;
    expect(doc.numPages).toBe(1);
    const text = await (await doc.getPage(1)).getTextContent();
    expect(text.items.map((i) => ('str' in i ? i.str : '')).join(' ')).toContain('Unit 8 (fractions)');
  });
});
