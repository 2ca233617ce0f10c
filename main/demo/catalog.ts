import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { KeyPair } from '../../core/signing.js';
import { systemClock } from '../../core/clock.js';
import { publishFolder, type PublishMeta } from '../../sync/publish.js';
import type { ItemKind } from '../../sync/manifest.js';

const run = promisify(execFile);

/** A minimal valid one-page PDF (PDF 1.4, Helvetica): real enough for any viewer and for pdf.js. */
export function tinyPdf(lines: string[]): Buffer {
  const esc = (s: string) => s.replace(/[\\()]/g, (c) => `\\${c}`);
  const text = lines.map((l, i) => `BT /F1 ${i === 0 ? 20 : 12} Tf 56 ${760 - i * 28} Td (${esc(l)}) Tj ET`).join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Length ${Buffer.byteLength(text)} >>\nstream\n${text}\nendstream`,
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const subjects = [
  { name: '数学', en: 'Mathematics', topics: ['分数的初步认识', '万以内的加法和减法', '长方形和正方形', '时、分、秒', '倍的认识', '测量'] },
  { name: '语文', en: 'Chinese', topics: ['古诗三首', '秋天的雨', '听听，秋的声音', '去年的树', '在牛肚子里旅行', '总也倒不了的老屋'] },
  { name: '英语', en: 'English', topics: ['Hello!', 'Colours', 'Look at me', 'We love animals', 'Let us eat', 'Happy birthday'] },
  { name: '科学', en: 'Science', topics: ['水', '空气', '天气', '动物', '植物', '声音'] },
];

export interface DemoCatalogOptions {
  contentDir: string;
  seedDataDir: string;
  publisher: KeyPair;
  grades?: number[];
  videos?: number;
  /** The demo stopping: generation ends at the next file. */
  signal?: AbortSignal;
}

/**
 * Generates the demo's resources once (real H.264 micro-lectures, real PDFs, PNG pictures) and
 * publishes them into the demo seed's store; a second start with the same folder reuses them.
 */
export async function publishDemoCatalog(o: DemoCatalogOptions): Promise<{ items: number; reused: boolean }> {
  if (existsSync(join(o.seedDataDir, 'sync', 'manifest.json'))) return { items: 0, reused: true };
  mkdirSync(o.contentDir, { recursive: true });
  const grades = o.grades ?? [1, 2, 3, 4, 5, 6];
  const items: PublishMeta['items'] = [];
  let videos = o.videos ?? 6;
  for (const grade of grades) {
    for (const s of subjects) {
      o.signal?.throwIfAborted();
      s.topics.forEach((topic, u) => {
        const unit = `第${u + 1}单元 ${topic}`;
        const base = `g${grade}-${s.en.toLowerCase()}-u${u + 1}`;
        const title = grade === 3 && s.name === '数学' && u === 0 ? topic : `${topic}（${grade}年级${s.name}）`;
        items.push({ id: `${base}-courseware`, title: `${title} 课件`, subject: s.name, grade, edition: '人教版', unit, kind: 'courseware-pdf' as ItemKind, tags: [s.name, topic], file: `${base}-courseware.pdf` });
        writeFileSync(join(o.contentDir, `${base}-courseware.pdf`), tinyPdf([`${s.en} grade ${grade}`, `Unit ${u + 1} courseware`, 'Teaching-point box demo resource']));
        items.push({ id: `${base}-exercise`, title: `${title} 练习`, subject: s.name, grade, edition: '人教版', unit, kind: 'exercise-set' as ItemKind, tags: [s.name, '练习'], file: `${base}-exercise.pdf` });
        writeFileSync(join(o.contentDir, `${base}-exercise.pdf`), tinyPdf([`${s.en} grade ${grade} unit ${u + 1}`, 'Exercise set', '1) ...', '2) ...', '3) ...']));
      });
    }
  }
  // A few pictures and real micro-lecture videos (two seconds each, small, H.264 + AAC in MP4).
  for (const [i, s] of subjects.entries()) {
    const file = `picture-${i}.png`;
    await sharp({ create: { width: 640, height: 360, channels: 3, background: { r: 40 + i * 50, g: 120, b: 200 - i * 40 } } }).png().toFile(join(o.contentDir, file));
    items.push({ id: `picture-${i}`, title: `${s.name}挂图`, subject: s.name, grade: 3, edition: '人教版', unit: '第1单元', kind: 'image', tags: [s.name, '挂图'], file });
  }
  for (const s of subjects) {
    if (videos-- <= 0) break;
    o.signal?.throwIfAborted();
    const file = `micro-${s.en.toLowerCase()}.mp4`;
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=15', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
      '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '48k', '-movflags', '+faststart', join(o.contentDir, file)], { timeout: 60_000, ...(o.signal ? { signal: o.signal } : {}) });
    items.push({ id: `micro-${s.en.toLowerCase()}`, title: `微课：${s.topics[0]}`, subject: s.name, grade: 3, edition: '人教版', unit: `第1单元 ${s.topics[0]}`, kind: 'video', tags: [s.name, '微课'], file });
  }
  o.signal?.throwIfAborted();
  await publishFolder({ folder: o.contentDir, meta: { publisher: '县教育局资源中心（演示）', items }, key: o.publisher, outDir: join(o.seedDataDir, 'sync'), clock: systemClock, validDays: 365, ...(o.signal ? { signal: o.signal } : {}) });
  return { items: items.length, reused: false };
}
