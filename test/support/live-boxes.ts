// A hub and N teaching points (real boxes, in-process, loopback) with a lesson running now, media
// tokens for local clients, and short timetable/agent intervals so the links come up quickly.
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import type { Lesson } from '../../core/contract/lesson.js';
import type { MediaScope } from '../../core/contract/media-scope.js';
import { pinSession, startTestBox, type TestBox } from './boxes.js';

export const fastMedia = {
  agent: { tickMs: 200, timetableIntervalMs: 1000 },
  sfu: { connectTimeoutMs: 10_000, disconnectTimeoutMs: 5000 },
};

export interface LiveSetup {
  hub: TestBox;
  tps: TestBox[];
  lesson: Lesson;
  hubToken: string;
  tpTokens: string[];
  close(): Promise<void>;
}

/**
 * A screen's media token issued behind the PIN. Tokens have scopes now: tests that publish the hub's
 * broadcast (or play anything) get `console` unless they ask for less.
 */
export async function mediaToken(baseUrl: string, scope: MediaScope = 'console'): Promise<string> {
  const session = await pinSession(baseUrl);
  const res = await fetch(`${baseUrl}/api/admin/media-tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` }, body: JSON.stringify({ label: 'test client', scope }),
  });
  if (res.status !== 201) throw new Error(`media token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export async function createLesson(hubUrl: string, teachingPoints: string[], startsInMs = -60_000, lengthMs = 45 * 60_000): Promise<Lesson> {
  const session = await pinSession(hubUrl);
  const start = Date.now() + startsInMs;
  const res = await fetch(`${hubUrl}/api/lessons`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` },
    body: JSON.stringify({
      subject: '数学', grade: '三年级', title: '分数的初步认识', hubTeacher: '王老师', teachingPoints,
      startsAt: new Date(start).toISOString(), endsAt: new Date(start + lengthMs).toISOString(), courseware: ['item-1'],
    }),
  });
  if (res.status !== 201) throw new Error(`lesson: ${res.status} ${await res.text()}`);
  return (await res.json()) as Lesson;
}

export async function startLive(root: string, teachingPoints: number, opts: { lesson?: boolean } = {}): Promise<LiveSetup> {
  const county = generateKeyPair();
  const tps: TestBox[] = [];
  const hub = await startTestBox({ county, dataDir: join(root, 'hub'), draft: { role: 'hub', schoolId: 'hub-school', name: '中心校' }, start: { media: fastMedia } });
  try {
    for (let i = 0; i < teachingPoints; i++) {
      const { code } = hub.box.context.codes.create(`教学点${i + 1}`, 1);
      const tp = await startTestBox({
        county, dataDir: join(root, `tp${i + 1}`),
        draft: { role: 'teaching-point', schoolId: `tp-${i + 1}`, name: `教学点${i + 1}`, hub: { url: hub.box.url, publicKey: hub.box.identity.publicKey }, enrolmentCode: code },
        start: { hubCheckIntervalMs: 60_000, media: fastMedia },
      });
      tps.push(tp);
      await tp.box.context.hubLink!.tick();
    }
    const lesson = opts.lesson === false ? undefined : await createLesson(hub.box.url, tps.map((t) => t.box.identity.boxId));
    // The hub's test screen is the teacher's console; each teaching point's is its classroom whiteboard.
    const hubToken = await mediaToken(hub.box.url, 'console');
    const tpTokens = await Promise.all(tps.map((t) => mediaToken(t.box.url, 'classroom')));
    return {
      hub, tps, lesson: lesson!, hubToken, tpTokens,
      close: async () => {
        for (const t of tps) await t.close();
        await hub.close();
      },
    };
  } catch (e) {
    for (const t of tps) await t.close();
    await hub.close();
    throw e;
  }
}
