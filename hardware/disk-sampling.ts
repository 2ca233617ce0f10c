// Free disk space sampled every 15 minutes into the hardware_disk_samples table: the trend (and "full
// in N days") needs hours of samples.
import type { Logger } from '../core/log.js';
import { diskSpace } from './disk.js';
import type { DiskSamples } from './health-store.js';

/** Samples now and then every `intervalMs`; returns the stop. */
export function startDiskSampling(o: { disk: DiskSamples; dataDir: string; log: Logger; intervalMs?: number }): () => void {
  let stopped = false;
  const sample = () => {
    diskSpace(o.dataDir).then((d) => {
      if (!stopped) o.disk.add(d.availableBytes, d.totalBytes); // the box may have closed its database meanwhile
    }, (e: unknown) => o.log.warn({ err: (e as Error).message }, 'cannot sample free disk space'));
  };
  sample();
  const timer = setInterval(sample, o.intervalMs ?? 15 * 60_000);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
