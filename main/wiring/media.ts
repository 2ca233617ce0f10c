import type { Logger } from '../../core/log.js';
import type { OffsetClock } from '../../core/clock.js';
import type { Db } from '../../core/store/database.js';
import type { Identity } from '../../core/identity.js';
import type { ProvisionPayload } from '../../core/config.js';
import type { LessonClock } from '../../core/lesson-clock.js';
import type { PeerClient } from '../../core/peer-client.js';
import { Sfu, defaultSfuOptions, type SfuOptions } from '../../media/sfu.js';
import { defaultIce, type IceSettings } from '../../media/peer-config.js';
import { LessonStore } from '../../media/lesson-store.js';
import { MediaTokens } from '../../media/media-tokens.js';
import { MediaTickets } from '../../media/media-tickets.js';
import { ControlHub } from '../../media/control-hub.js';
import { nativeSrtp } from '../../media/rtp-send-path.js';
import { LessonAgent, type LessonAgentTiming } from '../../media/lesson-agent.js';
import { registerMediaMetrics } from '../metrics.js';
import type { Registry } from 'prom-client';

export interface MediaServices {
  sfu: Sfu;
  lessons: LessonStore;
  tokens: MediaTokens;
  /** Short-lived tickets for URLs a browser cannot put a header on (control WebSocket, <video src>). */
  tickets: MediaTickets;
  control: ControlHub;
  /** On a teaching point: follows the hub's timetable and keeps the lesson links up. */
  agent: LessonAgent | undefined;
  close(): Promise<void>;
}

export interface MediaWiringOptions {
  db: Db;
  clock: OffsetClock;
  /** The box's one answer to "is this lesson running" (the agent keeps links up by it). */
  lessonClock: LessonClock;
  /** On a teaching point: the client for every call to its hub. */
  hubPeer: PeerClient | undefined;
  log: Logger;
  identity: Identity;
  provisioning: ProvisionPayload;
  ice?: IceSettings;
  sfu?: Partial<Omit<SfuOptions, 'log' | 'ice'>>;
  agent?: Partial<LessonAgentTiming>;
  /** The box's Prometheus registry: media gauges are added to it. */
  registry?: Registry;
}

/** The live-lesson services of a hub or teaching point, closed as one (links, sessions, timers). */
export function createMediaServices(o: MediaWiringOptions): MediaServices {
  const log = o.log.child({ room: 'media' });
  const sfu = new Sfu({ ...defaultSfuOptions, ...o.sfu, log, ice: o.ice ?? defaultIce });
  // Not fatal (the JS code does the same work), but a hub relaying to many screens needs several times the CPU.
  if (!nativeSrtp.Protector) log.warn({ err: nativeSrtp.loadError?.message }, 'SRTP addon (native/srtp) not loaded: forwarding uses the slower JS SRTP; rebuild with `npm install`');
  const lessons = new LessonStore(o.db, o.clock);
  const tokens = new MediaTokens(o.db, o.clock);
  const control = new ControlHub({ db: o.db, clock: o.clock, log: log.child({ part: 'control' }), lessons });
  let agent: LessonAgent | undefined;
  if (o.provisioning.role === 'teaching-point') {
    if (!o.hubPeer) throw new Error('a teaching point needs its hub client to follow lessons');
    agent = new LessonAgent({
      sfu, lessons, control, lessonClock: o.lessonClock, hub: o.hubPeer, selfBoxId: o.identity.boxId, log: log.child({ part: 'lesson-agent' }),
      leadMs: 2 * 60_000, timetableIntervalMs: 10_000, tickMs: 1000, ...o.agent,
    });
    agent.start();
  }
  if (o.registry) {
    const a = agent;
    registerMediaMetrics(o.registry, {
      counts: () => sfu.counts(), traffic: sfu.traffic, get plisSent() { return sfu.plisSent; }, nativeSrtp: nativeSrtp.Protector !== null,
      links: () => (a ? a.status().flatMap((l) => [{ direction: 'pull' as const, ...l.pull }, ...(l.push ? [{ direction: 'push' as const, ...l.push }] : [])]) : []),
    });
  }
  return {
    sfu, lessons, tokens, tickets: new MediaTickets(), control, agent,
    async close() {
      await agent?.stop();
      control.close();
      await sfu.close();
    },
  };
}
