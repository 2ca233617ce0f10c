import { describe, it, expect } from 'vitest';
import { recordingCheck } from '../../main/recording-doctor.js';

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
});
