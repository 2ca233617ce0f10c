import type { RecordingStatus } from '../core/contract/recording.js';

export interface RecordingCheck {
  id: string;
  title: string;
  verdict: 'ok' | 'warn' | 'fail';
  detail: string;
}

/**
 * The technician's view of lesson recording on a running box: off, recording now, or stopped with a
 * warning (disk nearly full…). A warning is `warn`, not `fail`: the lesson itself still works.
 */
export function recordingCheck(status: RecordingStatus | null | undefined): RecordingCheck | null {
  if (status === undefined) return null; // the daemon is not running: nothing to say
  const title = '课堂录像 Lesson recording';
  if (status === null) return { id: 'recording', title, verdict: 'ok', detail: '本机不录像（种子盒）/ this box does not record (seed)' };
  if (status.warning) return { id: 'recording', title, verdict: 'warn', detail: `录像已停止 / recording stopped: ${status.warning.message} (${status.warning.code})` };
  if (!status.enabled) return { id: 'recording', title, verdict: 'warn', detail: '录像已在设置中关闭 / recording is turned off in settings' };
  const n = status.active.length;
  return { id: 'recording', title, verdict: 'ok', detail: n ? `正在录像 ${n} 路 / recording ${n} room(s)` : '已开启，上课时自动录像 / on: lessons are recorded when they run' };
}
