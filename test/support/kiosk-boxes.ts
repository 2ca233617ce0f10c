// A hub and an enrolled teaching point as the demo composes them, with the timings a browser test
// needs (timetable fetched every second, short PIN lockout), plus lesson helpers over the real API.
import { join } from 'node:path';
import { generateKeyPair, type KeyPair } from '../../core/signing.js';
import type { Lesson } from '../../core/contract/lesson.js';
import type { StartOptions } from '../../main/box.js';
import { pinSession, startTestBox, TEST_PIN, type TestBox } from './boxes.js';

export interface KioskBoxes {
  hub: TestBox;
  tp: TestBox;
  close(): Promise<void>;
}

export async function startKioskBoxes(root: string, configExtra: Record<string, unknown> = {}, opts: { county?: KeyPair; publisherKeys?: string[]; recording?: Record<string, number>; /** Both boxes (the recording option above is the hub's alone). */ start?: Pick<StartOptions, 'clock' | 'lessonOverrunCapMs' | 'recording'> } = {}): Promise<KioskBoxes> {
  const county = opts.county ?? generateKeyPair();
  const publisherKeys = opts.publisherKeys ?? [];
  const media = { agent: { timetableIntervalMs: 1000, tickMs: 500 } };
  const hub = await startTestBox({ county, dataDir: join(root, 'hub'), configExtra, draft: { role: 'hub', schoolId: 'hub-school', name: '中心校主讲教室', publisherKeys }, start: { media, ...(opts.recording ? { recording: opts.recording } : {}), ...opts.start } });
  const { code } = hub.box.context.codes.create('村教学点', 1);
  const tp = await startTestBox({
    county, dataDir: join(root, 'tp'), configExtra,
    draft: { role: 'teaching-point', schoolId: 'tp-1', name: '村教学点', hub: { url: hub.box.url, publicKey: hub.box.identity.publicKey }, enrolmentCode: code, publisherKeys },
    start: { hubCheckIntervalMs: 2000, media, ...opts.start },
  });
  await tp.box.context.hubLink!.tick();
  return { hub, tp, close: async () => { await tp.close(); await hub.close(); } };
}

/** Creates a lesson on the hub for the teaching point, running from a minute ago for half an hour. */
export async function createLesson(hubUrl: string, tpBoxId: string, title = '分数的初步认识'): Promise<Lesson> {
  const token = await pinSession(hubUrl, TEST_PIN);
  const now = Date.now();
  const res = await fetch(`${hubUrl}/api/lessons`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      subject: '数学', grade: '三年级', title, hubTeacher: '王老师', teachingPoints: [tpBoxId],
      startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now + 30 * 60_000).toISOString(),
    }),
  });
  if (res.status !== 201) throw new Error(`lesson create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Lesson;
}
