import { describe, it, expect } from 'vitest';
import { Registry } from 'prom-client';
import { recordingCheck, recordingTransferCheck } from '../../recordings/checks.js';
import { registerRecordingMetrics } from '../../main/metrics.js';
import type { RecordingTransfer } from '../../core/contract/recording.js';

const move = (over: Partial<RecordingTransfer>): RecordingTransfer => ({
  recordingId: 'master.l1.l1', lessonId: 'l1', room: 'l1', title: '分数', direction: 'download', state: 'moving', reason: null,
  bytes: 4_000_000, doneBytes: 1_000_000, progress: 0.25, linkBytes: 1_100_000, limitBps: -1, ...over,
});

describe('the doctor on lesson recording', () => {
  it('says nothing when the daemon is not running, ok on a seed, warns when off or stopped', () => {
    expect(recordingCheck(undefined)).toBeNull();
    expect(recordingCheck(null)?.verdict).toBe('ok');
    expect(recordingCheck({ enabled: true, active: [], warning: null })).toMatchObject({ verdict: 'ok', detail: expect.stringContaining('上课时自动录像') });
    expect(recordingCheck({ enabled: true, active: [{ lessonId: 'l', room: 'l', since: '2026-11-23T08:00:00Z', segments: 3 }], warning: null })?.detail).toContain('正在录像 1 路');
    expect(recordingCheck({ enabled: false, active: [], warning: null })).toMatchObject({ verdict: 'warn', detail: expect.stringContaining('turned off') });
    const full = recordingCheck({ enabled: true, active: [], warning: { code: 'E_DISK_FULL', message: '磁盘快满了' } });
    expect(full).toMatchObject({ verdict: 'warn', detail: expect.stringContaining('E_DISK_FULL') });
  });

  it('tells recording transfers in plain words: paused by the plan is fine, a failure warns with its code', () => {
    expect(recordingTransferCheck(undefined)).toBeNull();
    expect(recordingTransferCheck(null)).toBeNull();
    expect(recordingTransferCheck([])).toMatchObject({ verdict: 'ok', detail: expect.stringContaining('no recording to move') });
    expect(recordingTransferCheck([move({ state: 'done', doneBytes: 4_000_000, progress: 1 })])?.detail).toContain('1 recording(s) moved, all done');
    const paused = recordingTransferCheck([move({ state: 'paused', reason: 'lesson-paused', doneBytes: 0, progress: 0, limitBps: 0 })])!;
    expect(paused.verdict).toBe('ok');
    expect(paused.detail).toBe('下载 download「分数」(master.l1.l1) 已暂停 / paused: 正在上课，线路留给直播 / a lesson is live: the link is kept for it (lesson-paused); 0.0 / 4.0 MB (0 %)');
    expect(recordingTransferCheck([move({ limitBps: 40_000 })])?.detail).toContain('moving, limited to 40 kB/s; 1.0 / 4.0 MB (25 %)');
    const failed = recordingTransferCheck([move({ direction: 'upload', recordingId: 'own.l1.x', state: 'failed', reason: 'E_DISK_FULL' }), move({ state: 'done' })])!;
    expect(failed.verdict).toBe('warn');
    expect(failed.detail).toContain('上传 upload「分数」(own.l1.x) 失败 / failed: 磁盘空间不足 / the disk is full (E_DISK_FULL)');
    expect(failed.detail).toContain('1 more done');
    expect(recordingTransferCheck([move({ state: 'failed', reason: 'E_SOMETHING_NEW' })])?.detail).toContain('failed: E_SOMETHING_NEW;');
  });

  it('exposes recording transfers as gauges', async () => {
    const registry = new Registry();
    let list: RecordingTransfer[] = [move({ state: 'paused', reason: 'lesson-paused', doneBytes: 0, progress: 0, linkBytes: 0 }), move({ direction: 'upload', recordingId: 'own.l1.x', state: 'failed', reason: 'E_HUB_UNREACHABLE' })];
    registerRecordingMetrics(registry, { status: () => null, transfers: () => list });
    const text = await registry.metrics();
    expect(text).toContain('box_recording_transfers{direction="download",state="paused"} 1');
    expect(text).toContain('box_recording_transfers{direction="download",state="moving"} 0');
    expect(text).toContain('box_recording_transfers{direction="upload",state="failed"} 1');
    expect(text).toContain('box_recording_transfer_pending_bytes{direction="download"} 4000000');
    expect(text).toContain('box_recording_transfer_pending_bytes{direction="upload"} 3000000');
    expect(text).toContain('box_recording_transfer_link_bytes{direction="upload"} 1100000');
    expect(text).toContain('box_recording_transfer_progress{direction="upload",recording="own.l1.x",state="failed",reason="E_HUB_UNREACHABLE"} 0.25');
    list = [move({ state: 'done', doneBytes: 4_000_000, progress: 1 })];
    const after = await registry.metrics();
    expect(after).toContain('box_recording_transfers{direction="download",state="done"} 1');
    expect(after).toContain('box_recording_transfer_pending_bytes{direction="download"} 0');
    expect(after).not.toContain('box_recording_transfer_progress{');
  });
});
