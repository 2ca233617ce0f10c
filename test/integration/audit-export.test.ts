// 等级保护 audit: a flood of refused media tokens costs a bounded number of rows (coalesced with a count), and
// the whole log exports behind the PIN session as CSV (UTF-8 BOM, Chinese headers; read here by Python's csv
// module, as a spreadsheet would) or JSON lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { CSV_HEADERS } from '../../main/http/audit-export.js';
import { pinSession, startTestBox, tempDir, type TestBox } from '../support/boxes.js';

/** Rows as Python's csv module reads them (utf-8-sig: a BOM is taken off, as Excel does). */
function parseCsv(bytes: Buffer): string[][] {
  const out = execFileSync('python3', ['-c', 'import csv, io, json, sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.buffer.read().decode("utf-8-sig"), newline="")))))'], { input: bytes });
  return JSON.parse(out.toString('utf8')) as string[][];
}

describe('audit: coalesced refusals and the export', () => {
  const dir = tempDir('box-audit-');
  let hub: TestBox;
  const refusedRows = () => (hub.box.context.db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'auth.refused' AND details LIKE '%media-token%'").get() as { n: number }).n;

  beforeAll(async () => {
    hub = await startTestBox({ county: generateKeyPair(), dataDir: join(dir.path, 'hub'), draft: { role: 'hub', schoolId: 'hub-school', name: '中心校' } });
  });
  afterAll(async () => {
    await hub?.close();
    dir.remove();
  });

  it('300 refused media tokens from one source write a bounded number of rows, with the count', async () => {
    for (let i = 0; i < 300; i++) {
      const res = await fetch(`${hub.box.url}/api/lessons`, { headers: { authorization: `Bearer mt_${'x'.repeat(30)}${i}` } });
      expect(res.status).toBe(401);
    }
    // One row for the first refusal (two if the flood crossed into a new minute); the rest wait in the count.
    expect(refusedRows()).toBeLessThanOrEqual(2);
    hub.box.context.audit.flush(true);
    expect(refusedRows()).toBeLessThanOrEqual(4);
    const rows = hub.box.context.audit.list(10, 'auth.refused').filter((e) => e.details?.reason === 'media-token');
    expect(rows.reduce((n, e) => n + Number(e.details?.count ?? 0), 0)).toBe(300);
    expect(rows[0]!.details).toMatchObject({ repeated: true, ip: '127.0.0.1' });
  });

  it('refuses the export without a PIN session, in either format', async () => {
    for (const q of ['', '?format=csv', '?format=jsonl']) {
      const res = await fetch(`${hub.box.url}/api/audit/export${q}`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('E_UNAUTHORIZED');
    }
    const bad = await fetch(`${hub.box.url}/api/audit/export?format=xlsx`, { headers: { authorization: `Bearer ${await pinSession(hub.box.url)}` } });
    expect(bad.status).toBe(400);
  });

  it('exports the whole log as CSV a spreadsheet reads: BOM, Chinese headers, one row per entry, formulas defused', async () => {
    hub.box.context.audit.append({ actor: '=HYPERLINK("http://evil","点我")', action: 'auth.refused', target: 'GET /api/lessons', outcome: 'refused', details: { reason: 'test' } });
    const token = await pinSession(hub.box.url);
    const res = await fetch(`${hub.box.url}/api/audit/export?format=csv`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; /);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, ...rows] = parseCsv(bytes);
    expect(header).toEqual([...CSV_HEADERS]);
    // Every row up to the export's own record (written just before the file) is in it, oldest first.
    const inDb = (hub.box.context.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
    expect(rows.length).toBe(inDb);
    expect(rows.every((r) => r.length === CSV_HEADERS.length)).toBe(true);
    expect(rows.map((r) => Number(r[0]))).toEqual([...rows.map((r) => Number(r[0]))].sort((a, b) => a - b));
    const refused = rows.filter((r) => r[3] === 'auth.refused' && r[5] === '拒绝');
    expect(refused.some((r) => (JSON.parse(r[6]!) as { count?: number }).count === 299)).toBe(true);
    expect(rows.find((r) => r[2]!.includes('HYPERLINK'))?.[2]).toBe('\'=HYPERLINK("http://evil","点我")');
    expect(rows.at(-1)![3]).toBe('audit.export');
  });

  it('exports JSON lines too, one entry per line', async () => {
    const token = await pinSession(hub.box.url);
    const res = await fetch(`${hub.box.url}/api/audit/export?format=jsonl`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { id: number; action: string; time: string });
    expect(lines.length).toBe((hub.box.context.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n);
    expect(lines.some((l) => l.action === 'auth.refused')).toBe(true);
    expect(lines[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
