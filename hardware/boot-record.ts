// Unclean shutdowns: each start is recorded (and a start after a power cut, kill or crash is logged);
// a clean stop removes the running marker.
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Db } from '../core/store/database.js';
import { BootRecorder, type BootInfo } from './health-store.js';

export function recordBoot(o: { db: Db; dataDir: string; clock: Clock; log: Logger }): { boots: BootRecorder; boot: BootInfo } {
  const boots = new BootRecorder(o.db, o.dataDir, o.clock);
  const boot = boots.recordStart();
  if (!boot.previousClean) {
    o.log.warn({ previousStartedAt: boot.previousStartedAt, uncleanCount: boot.uncleanCount },
      'the box did not shut down cleanly last time (power cut, kill or crash)');
  }
  return { boots, boot };
}
