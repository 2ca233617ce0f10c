import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../core/log.js';
import { OffsetClock, systemClock, type Clock } from '../core/clock.js';
import type { BoxConfig, ProvisionPayload, Role } from '../core/config.js';
import { boxIdOf, loadOrCreateIdentity, type FingerprintSources, type Identity, type IdentityEvent } from '../core/identity.js';
import { databasePath, openDatabase, type Db } from '../core/store/database.js';
import { LessonClock } from '../core/lesson-clock.js';
import { PeerClient } from '../core/peer-client.js';
import { AuditStore } from '../core/store/audit-store.js';
import { KvStore } from '../core/store/kv-store.js';
import { PinGuard } from './security/pin-guard.js';
import { PeerRegistry } from './security/peer-registry.js';
import { EnrolmentCodes } from './security/enrolment-codes.js';
import { SettingsService } from './settings-service.js';
import { HubLink } from './wiring/hub-link.js';
import { createMetrics, registerHardwareMetrics } from './metrics.js';
import { loadProvisioning } from './provisioning-store.js';
import { buildServer } from './http/server.js';
import type { BoxContext, IdentityNotice } from './http/context.js';
import { softwareVersion } from './version.js';
import { createSyncServices } from './wiring/sync.js';
import { wireLessonsToSync } from './wiring/lesson-sync.js';
import { createMediaServices, type MediaWiringOptions } from './wiring/media.js';
import { wireRecordings, type RecordingsTuning } from './wiring/recordings.js';
import { createHardwareServices } from '../hardware/services.js';
import { withHardwarePeerCalls } from './wiring/hardware-peer.js';
import { followHubPresets } from './wiring/ptz-relay.js';
import { LinkShare } from '../sync/link-share.js';

export interface StartOptions {
  config: BoxConfig;
  log: Logger;
  /** The machine clock; a teaching point follows its hub on top of it. */
  clock?: Clock;
  fingerprintSources?: FingerprintSources;
  hubCheckIntervalMs?: number;
  /** Live-lesson tuning (ICE addresses, SFU timeouts, lesson lead time); tests shorten it. */
  media?: Partial<Pick<MediaWiringOptions, 'ice' | 'sfu' | 'agent'>>;
  recording?: RecordingsTuning;
  /** How long past `endsAt` a lesson the hub teacher started (and never ended) still runs; tests shorten it. */
  lessonOverrunCapMs?: number;
}

export interface Box {
  readonly url: string;
  readonly port: number;
  readonly role: Role | null;
  readonly identity: Identity;
  readonly context: BoxContext;
  close(): Promise<void>;
}

function formatUrl(host: string, port: number): string {
  const shown = host === '::' || host === '0.0.0.0' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/** Records what happened to the identity at this start, so logs and `box status` can say it. */
function recordIdentityEvent(db: Db, audit: AuditStore, state: KvStore, identity: Identity, event: IdentityEvent, log: Logger, now: number): IdentityNotice | undefined {
  if (event.kind === 'loaded') return state.get<IdentityNotice>('identity.notice');
  const notice: IdentityNotice = { reason: event.reason, at: now, ...(event.reason === 'cloned' ? { previousBoxId: event.previousBoxId } : {}) };
  db.transaction(() => {
    if (event.reason === 'cloned') {
      db.prepare('INSERT INTO identity_history (box_id, public_key, replaced_at, reason) VALUES (?, ?, ?, ?)').run(event.previousBoxId, event.previousPublicKey, now, 'cloned');
    }
    state.set('identity.notice', notice);
    audit.append({ actor: 'box', action: 'identity.create', target: identity.boxId, outcome: 'ok', details: { ...notice } });
  })();
  if (event.reason === 'cloned') {
    log.warn({ boxId: identity.boxId, previousBoxId: event.previousBoxId },
      'this data folder was copied from another box: made a fresh identity; the box must enrol with its hub again');
  } else {
    log.info({ boxId: identity.boxId, reason: event.reason }, 'made a new box identity');
  }
  return notice;
}

/** Starts one box: identity, store, role services and HTTP API. Closing it releases everything. */
export async function startBox(opts: StartOptions): Promise<Box> {
  const { config } = opts;
  const baseClock = opts.clock ?? systemClock;
  const clock = new OffsetClock(baseClock);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });

  // Provisioning is checked before anything is written: a bad bundle on disk stops the start.
  const provisioning: ProvisionPayload | undefined = loadProvisioning(config.dataDir, config.trust.countyKeys, clock);
  const role = provisioning?.role ?? null;
  const { identity, event } = loadOrCreateIdentity(config.dataDir, new Date(baseClock.now()), opts.fingerprintSources);
  const log = opts.log.child({ boxId: identity.boxId, role: role ?? 'unprovisioned' });

  const db = openDatabase(databasePath(config.dataDir), log.child({ room: 'store' }));
  // Released in reverse order of acquisition: HTTP first, the database last.
  const closers: Array<() => void | Promise<void>> = [() => { db.close(); }];
  try {
    const audit = new AuditStore(db, clock, log, {}, { maxRows: config.audit.maxRows, maxAgeMs: config.audit.maxAgeDays * 86_400_000 });
    closers.push(() => audit.close()); // summary rows of coalesced refusals, before the database closes
    const state = new KvStore(db, clock, 'box_state');
    const identityNotice = recordIdentityEvent(db, audit, state, identity, event, log, baseClock.now());
    const peers = new PeerRegistry(db, clock);
    const lessonClock = new LessonClock(clock, opts.lessonOverrunCapMs !== undefined ? { overrunCapMs: opts.lessonOverrunCapMs } : {});
    // A teaching point's every call to its hub goes through this one client (token, timeout, size cap).
    const hubPeer = provisioning?.role === 'teaching-point'
      ? new PeerClient({ baseUrl: provisioning.hub.url, peerBoxId: boxIdOf(provisioning.hub.publicKey), identity, clock, tokenTtlSeconds: Math.min(60, config.security.tokenTtlSeconds) })
      : undefined;
    const metrics = createMetrics({ role: role ?? 'unprovisioned', boxId: identity.boxId });
    const sec = config.security;

    let hubLink: HubLink | undefined;
    if (provisioning?.role === 'teaching-point' && hubPeer) {
      peers.addFixed(boxIdOf(provisioning.hub.publicKey), provisioning.hub.publicKey);
      hubLink = new HubLink({
        hub: hubPeer, hubPublicKey: provisioning.hub.publicKey, enrolmentCode: provisioning.enrolmentCode,
        identity, name: provisioning.name, schoolId: provisioning.schoolId, clock, state, audit,
        log: log.child({ room: 'hub-link' }), metrics,
        ...(opts.hubCheckIntervalMs ? { intervalMs: opts.hubCheckIntervalMs } : {}),
      });
      closers.push(() => hubLink?.close());
    }
    // Every box: boot record (unclean shutdowns), disk trend, devices, PTZ; closed after all started later.
    const hardware = withHardwarePeerCalls(
      createHardwareServices({ db, clock, log, audit, dataDir: config.dataDir, clockSkewMs: () => hubLink?.snapshot().clockOffsetMs ?? null }),
      { identity, clock, log, hubPeer, hubLink, peers });
    registerHardwareMetrics(metrics.registry, hardware);
    closers.push(() => hardware.close());

    const ctx: BoxContext = {
      config, provisioning, role, identity, identityNotice, clock, lessonClock, log, db, audit, state,
      settings: new SettingsService(db, new KvStore(db, clock, 'settings'), audit),
      pin: new PinGuard(db, clock, () => provisioning?.settingsPinHash, {
        maxAttempts: sec.pinMaxAttempts, lockoutSeconds: sec.pinLockoutSeconds, sessionTtlSeconds: sec.sessionTtlSeconds, globalMaxAttempts: sec.pinGlobalMaxAttempts,
      }),
      peers, codes: new EnrolmentCodes(db, clock), hubLink, metrics, startedAt: Date.now(), version: softwareVersion(),
    };
    ctx.hardware = hardware;
    // One link, two torrent clients (resource sync, recordings): each applies its share of the plan, so
    // together they keep to the technician's cap instead of up to twice it. Closed after both.
    const linkShare = new LinkShare();
    closers.push(() => linkShare.close());
    if (provisioning && provisioning.role !== 'seed') {
      const media = createMediaServices({ db, clock, lessonClock, hubPeer, log, identity, provisioning, registry: metrics.registry, ...opts.media });
      ctx.media = media;
      closers.push(() => media.close());
      if (provisioning.role === 'teaching-point') closers.push(followHubPresets(media.control, hardware.ptz, identity.boxId, log.child({ room: 'hardware', part: 'hub-presets' })));
      const recordings = wireRecordings({
        db, log, dataDir: config.dataDir, identity, provisioning, lessonClock, media, hubPeer, linkShare,
        registry: metrics.registry, enabled: () => ctx.settings.get().recording.enabled, tuning: opts.recording,
        linkPolicy: () => ({ ...ctx.settings.get().sync, linkKbps: ctx.sync?.preferences().linkKbps ?? null, lessonActive: ctx.sync?.engine.status().lessonActive ?? false }),
      });
      ctx.recordings = recordings.api;
      closers.push(() => recordings.close());
    }

    if (provisioning) {
      const sync = createSyncServices({
        db, clock, log, dataDir: config.dataDir, provisioning, settings: ctx.settings, state,
        toleranceMs: config.security.clockToleranceSeconds * 1000, linkShare,
      });
      ctx.sync = sync;
      closers.push(() => sync.close());
      const media = ctx.media;
      if (media) closers.push(wireLessonsToSync({ lessons: () => media.lessons.list(), sync, clock: lessonClock, log: log.child({ room: 'sync', part: 'lessons' }) }));
    }
    const app: FastifyInstance = await buildServer(ctx);
    closers.push(() => app.close());
    const host = provisioning?.network.listenHost ?? config.listen.host;
    const port = provisioning?.network.port ?? config.listen.port;
    await app.listen({ host, port, ipv6Only: false });
    const address = app.server.address();
    const boundPort = typeof address === 'object' && address ? address.port : port;
    const url = provisioning?.network.publicUrl?.replace(/\/$/, '') ?? formatUrl(host, boundPort);
    hubLink?.start();
    ctx.sync?.start(url);
    hardware.start(url);
    ctx.recordings?.start(url);
    log.info({ url, version: ctx.version }, 'box started');

    let closed = false;
    return {
      url, port: boundPort, role, identity, context: ctx,
      async close() {
        if (closed) return;
        closed = true;
        for (const c of closers.reverse()) {
          const started = Date.now();
          // A stop must stay bounded (power button, service manager): a step that hangs is named and skipped.
          const slow = setTimeout(() => log.warn({ step: c.toString().slice(0, 80) }, 'shutdown step still running after 10 s: going on'), 10_000);
          const hung = new Promise<void>((r) => setTimeout(r, 12_000).unref());
          await Promise.race([Promise.resolve().then(c), hung]).finally(() => clearTimeout(slow));
          if (Date.now() - started > 2000) log.info({ step: c.toString().slice(0, 80), ms: Date.now() - started }, 'slow shutdown step');
        }
        log.info('box stopped');
      },
    };
  } catch (e) {
    for (const c of closers.reverse()) await c();
    throw e;
  }
}
