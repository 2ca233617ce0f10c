import type { DoctorCheck } from '../core/contract/doctor.js';
import type { RecordingStatus, RecordingTransfer } from '../core/contract/recording.js';

/**
 * The technician's view of lesson recording on a running box: off, recording now, or stopped with a
 * warning (disk nearly full…). A warning is `warn`, not `fail`: the lesson itself still works.
 */
export function recordingCheck(status: RecordingStatus | null | undefined): DoctorCheck | null {
  if (status === undefined) return null; // the daemon is not running: nothing to say
  const title = '课堂录像 Lesson recording';
  if (status === null) return { id: 'recording', title, verdict: 'ok', detail: '本机不录像（种子盒）/ this box does not record (seed)' };
  if (status.warning) return { id: 'recording', title, verdict: 'warn', detail: `录像已停止 / recording stopped: ${status.warning.message} (${status.warning.code})` };
  if (!status.enabled) return { id: 'recording', title, verdict: 'warn', detail: '录像已在设置中关闭 / recording is turned off in settings' };
  const n = status.active.length;
  return { id: 'recording', title, verdict: 'ok', detail: n ? `正在录像 ${n} 路 / recording ${n} room(s)` : '已开启，上课时自动录像 / on: lessons are recorded when they run' };
}

const REASONS: Record<string, string> = {
  'lesson-paused': '正在上课，线路留给直播 / a lesson is live: the link is kept for it',
  'outside-window': '不在设置的同步时段 / outside the sync hours set in settings',
  E_HUB_UNREACHABLE: '连不上中心校，稍后自动重试 / cannot reach the hub, will try again',
  E_DISK_FULL: '磁盘空间不足 / the disk is full',
  E_RECORDING_QUOTA: '中心校暂不接收更多录像，已传的收完后继续 / the hub takes no more for now: the rest follows once what is on its way has arrived',
  E_ITEM_CORRUPT: '收到的文件校验不符，正在重新下载 / the file received did not match its checksum: fetching it again',
  E_MANIFEST_TAMPERED: '录像清单与文件不符 / the recording list does not match the file',
  E_FORBIDDEN: '对方拒收 / the other box refused it',
  E_VALIDATION: '对方不认识这节课 / the other box does not know this lesson',
};

const mb = (n: number) => (n / 1e6).toFixed(1);

/** One line per recording in words a technician reads: which way, state, why, how far. */
function transferLine(t: RecordingTransfer): string {
  const way = t.direction === 'download' ? '下载 download' : '上传 upload';
  const why = t.reason ? `: ${REASONS[t.reason] ?? t.reason}${REASONS[t.reason] ? ` (${t.reason})` : ''}` : '';
  const state = {
    waiting: '等待中 / waiting',
    moving: t.limitBps > 0 ? `传送中，限速 ${Math.round(t.limitBps / 1000)} kB/s / moving, limited to ${Math.round(t.limitBps / 1000)} kB/s` : '传送中 / moving',
    paused: '已暂停 / paused',
    done: '已完成 / done',
    failed: '失败 / failed',
  }[t.state];
  return `${way}「${t.title}」(${t.recordingId}) ${state}${why}; ${mb(t.doneBytes)} / ${mb(t.bytes)} MB (${Math.round(t.progress * 100)} %)`;
}

/**
 * Recordings moving between boxes (the hub's masters down, a teaching point's own up): paused by the
 * link plan is normal (`ok`); a failure is `warn` — lessons still work, the transfer is tried again.
 */
export function recordingTransferCheck(transfers: RecordingTransfer[] | null | undefined): DoctorCheck | null {
  if (transfers === undefined) return null; // the daemon is not running: nothing to say
  const title = '录像传送 Recording transfers';
  if (transfers === null) return null; // a seed: no recordings move
  const open = transfers.filter((t) => t.state !== 'done');
  const done = transfers.length - open.length;
  if (open.length === 0) return { id: 'recording-transfers', title, verdict: 'ok', detail: done ? `${done} 个录像已传送完毕 / ${done} recording(s) moved, all done` : '没有要传送的录像 / no recording to move' };
  const failed = open.some((t) => t.state === 'failed');
  const lines = open.map(transferLine);
  if (done) lines.push(`另有 ${done} 个已完成 / ${done} more done`);
  return { id: 'recording-transfers', title, verdict: failed ? 'warn' : 'ok', detail: lines.join('; ') };
}
