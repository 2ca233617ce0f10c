// Shape of GET /api/health (a stable path county tooling and other boxes rely on).
import type { HardwareHealth } from './hardware.js';
import type { RecordingStatus, RecordingTransfer } from './recording.js';
export type BoxRole = 'hub' | 'teaching-point' | 'seed';

export interface HealthReport {
  status: 'ok';
  role: BoxRole | null;
  provisioned: boolean;
  boxId: string;
  publicKey: string;
  name: string | null;
  schoolId: string | null;
  version: string;
  uptimeSeconds: number;
  disk: { freeBytes: number | null; totalBytes: number | null };
  clock: { now: string; systemNow: string; offsetFromHubMs: number | null };
  identity: { createdAt: string; notice: 'first-boot' | 'cloned' | 'unreadable' | null; previousBoxId: string | null };
  hub: {
    url: string;
    boxId: string;
    reachable: boolean;
    lastContactAt: string | null;
    enrolled: boolean;
    problem: string | null;
  } | null;
  /** Cameras, microphones, disk trend, SMART, CPU temperature, unclean shutdowns, clock skew. */
  hardware: HardwareHealth | null;
  /** Lesson recording on this box (hub and teaching point). */
  recording?: RecordingStatus | null;
  /** Recordings moving between boxes (masters down, teaching points' own up): null on a seed. */
  recordingTransfers?: RecordingTransfer[] | null;
}
