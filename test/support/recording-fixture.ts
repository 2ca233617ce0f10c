// What the recording tests that start their own boxes and demo cameras share: a temp folder, and the
// cameras then the boxes closed in reverse order after the file's tests (even when one fails).
import { afterAll } from 'vitest';
import type { DemoCamera } from '../../main/demo/camera.js';
import { tempDir, type TestBox } from './boxes.js';

export function recordingFixture(prefix: string): { dir: ReturnType<typeof tempDir>; boxes: TestBox[]; cams: DemoCamera[] } {
  const f = { dir: tempDir(prefix), boxes: [] as TestBox[], cams: [] as DemoCamera[] };
  afterAll(async () => {
    for (const c of f.cams.reverse()) await c.close();
    for (const b of f.boxes.reverse()) await b.close();
    f.dir.remove();
  });
  return f;
}
