// The audit log as a file a 等级保护 reviewer can open: CSV for Excel/WPS (UTF-8 BOM so the Chinese reads
// right, Chinese headers) or JSON lines for tools. Streamed page by page: the whole log is never in memory,
// and no statement stays open between pages (better-sqlite3 refuses writes while one iterates).
import { Readable } from 'node:stream';
import type { AuditEntry, AuditStore } from '../../core/store/audit-store.js';

export type AuditFormat = 'csv' | 'jsonl';

export const CSV_HEADERS = ['编号', '时间', '操作者', '操作', '对象', '结果', '详情'] as const;
const OUTCOME_WORDS: Record<AuditEntry['outcome'], string> = { ok: '成功', refused: '拒绝', error: '出错' };
const PAGE = 1000;

/** Local time with its offset (the box's clock zone), which a spreadsheet shows as written. */
function localTime(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const p = (n: number, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${off >= 0 ? '+' : '-'}${p(off / 60)}:${p(off % 60)}`;
}

/**
 * One CSV cell (RFC 4180 quoting). A cell that a spreadsheet would read as a formula (=, +, -, @, tab, CR)
 * gets a leading apostrophe: actors and targets come from requests, and a refused caller chooses them.
 */
export function csvCell(v: string | number | null): string {
  let s = v === null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function csvRow(e: AuditEntry): string {
  return [e.id, localTime(e.at), e.actor, e.action, e.target, OUTCOME_WORDS[e.outcome] ?? e.outcome, e.details ? JSON.stringify(e.details) : null].map(csvCell).join(',') + '\r\n';
}

/** The whole log, oldest first, as CSV or JSON lines. */
export function auditExport(audit: AuditStore, format: AuditFormat): Readable {
  async function* lines(): AsyncGenerator<string> {
    if (format === 'csv') yield `\ufeff${CSV_HEADERS.join(',')}\r\n`;
    let after = 0;
    for (;;) {
      const page = audit.pageAfter(after, PAGE);
      if (page.length === 0) return;
      yield page.map((e) => (format === 'csv' ? csvRow(e) : `${JSON.stringify({ ...e, time: new Date(e.at).toISOString() })}\n`)).join('');
      after = page[page.length - 1]!.id;
    }
  }
  return Readable.from(lines());
}
