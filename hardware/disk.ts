import { statfs } from 'node:fs/promises';

export interface DiskSpace {
  path: string;
  totalBytes: number;
  /** Free blocks, including those only root may use. */
  freeBytes: number;
  /** What the box's own (unprivileged) writes can still use: the figure quotas and reserves work from. */
  availableBytes: number;
}

/** Size and free space of the filesystem holding `path` (a file or folder that exists). */
export async function diskSpace(path: string): Promise<DiskSpace> {
  let s;
  try {
    s = await statfs(path);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    // The path goes in the message: `box doctor` prints it to a technician who must find the mount.
    throw new Error(`cannot read disk space of ${path}: ${reason}`, { cause: err });
  }
  return {
    path,
    totalBytes: s.blocks * s.bsize,
    freeBytes: s.bfree * s.bsize,
    availableBytes: s.bavail * s.bsize,
  };
}
