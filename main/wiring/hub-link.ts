import type { Logger } from '../../core/log.js';
import { OffsetEstimator, type OffsetClock } from '../../core/clock.js';
import type { KvStore } from '../../core/store/kv-store.js';
import type { AuditStore } from '../../core/store/audit-store.js';
import type { Identity } from '../../core/identity.js';
import type { PeerClient } from '../../core/peer-client.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { signBytes, verifyDocument } from '../../core/signing.js';
import { boxIdOf } from '../../core/identity.js';
import type { BoxMetrics } from '../metrics.js';

export interface HubLinkOptions {
  /** The one client for calls to the hub (its URL, tokens, timeouts, size caps). */
  hub: PeerClient;
  hubPublicKey: string;
  enrolmentCode: string | undefined;
  identity: Identity;
  name: string;
  schoolId: string;
  clock: OffsetClock;
  state: KvStore;
  audit: AuditStore;
  log: Logger;
  metrics: BoxMetrics;
  /** How often to check the hub when it answers; failures back off up to maxIntervalMs. */
  intervalMs?: number;
  maxIntervalMs?: number;
}

export interface Enrolment {
  hubBoxId: string;
  myBoxId: string;
  enrolledAt: number;
}

export interface HubStatus {
  url: string;
  boxId: string;
  reachable: boolean;
  lastContactAt: number | null;
  lastError: string | null;
  enrolled: boolean;
  enrolmentProblem: string | null;
  clockOffsetMs: number;
}

/**
 * A teaching point's link to its hub: enrols once with the one-time code, then checks the hub
 * with signed tokens, follows the hub's clock, and backs off while the hub cannot be reached.
 */
export class HubLink {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private failures = 0;
  private status: HubStatus;
  private readonly offsets = new OffsetEstimator();
  private readonly hubId: string;

  constructor(private readonly o: HubLinkOptions) {
    this.hubId = boxIdOf(o.hubPublicKey);
    this.status = {
      url: o.hub.baseUrl, boxId: this.hubId, reachable: false, lastContactAt: null, lastError: null,
      enrolled: this.enrolment() !== undefined, enrolmentProblem: null, clockOffsetMs: 0,
    };
  }

  start(): void {
    this.schedule(0);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  snapshot(): HubStatus {
    return { ...this.status, clockOffsetMs: this.o.clock.offset };
  }

  enrolment(): Enrolment | undefined {
    const e = this.o.state.get<Enrolment>('enrolment');
    return e && e.myBoxId === this.o.identity.boxId && e.hubBoxId === this.hubId ? e : undefined;
  }

  /** Runs one round now (enrol if needed, then check the hub); used by the loop and by tests. */
  async tick(): Promise<void> {
    try {
      if (!this.enrolment()) await this.enrol();
      if (this.enrolment()) await this.checkTime();
      this.failures = 0;
    } catch (e) {
      this.failures++;
      this.status.reachable = false;
      this.status.lastError = (e as Error).message;
      this.o.metrics.hubReachable.set(0);
      this.o.log.warn({ err: (e as Error).message, failures: this.failures }, 'hub not reachable');
    }
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => {
        const base = this.o.intervalMs ?? 15_000;
        // The first few time samples come a second apart: the best of several is the clock to follow.
        const settling = this.offsets.count < 3 ? Math.min(base, 1000) : base;
        const next = this.failures === 0 ? settling : Math.min(base * 2 ** Math.min(this.failures, 6), this.o.maxIntervalMs ?? 60_000);
        this.schedule(next);
      });
    }, ms);
    this.timer.unref();
  }

  /** A code typed in on this box (shown on the hub) replaces the bundle's, e.g. after a re-image. */
  async enrolWithCode(code: string): Promise<HubStatus> {
    this.o.state.set('enrolment.code', code);
    await this.tick();
    return this.snapshot();
  }

  private async enrol(): Promise<void> {
    const code = this.o.state.get<string>('enrolment.code') ?? this.o.enrolmentCode;
    if (!code) {
      this.status.enrolmentProblem = 'no-code';
      return;
    }
    const used = this.o.state.get<{ code: string; boxId: string }>('enrolment.refusedCode');
    if (used && used.code === code && used.boxId === this.o.identity.boxId) return;
    const { identity } = this.o;
    const claim = { code, boxId: identity.boxId, publicKey: identity.publicKey, hubBoxId: this.hubId, at: this.o.clock.now() };
    const body = {
      ...claim,
      name: this.o.name,
      schoolId: this.o.schoolId,
      role: 'teaching-point',
      proof: signBytes(identity, Buffer.from(canonicalJson(claim))),
    };
    // Anonymous: the hub does not know this box until the code is accepted.
    const res = await this.o.hub.request('/api/enrol', { method: 'POST', json: body, anonymous: true, timeoutMs: 5000, maxBytes: 64 * 1024 });
    const json = ((): unknown => { try { return res.json(); } catch { return {}; } })() as { code?: string; message?: string; payload?: { hubBoxId?: string; boxId?: string; hubTime?: number }; signature?: unknown };
    if (!res.ok) {
      this.status.enrolmentProblem = json.code ?? `http-${res.status}`;
      // A spent or unknown code will not start working by itself: stop retrying it until re-provisioned.
      if (res.status === 403) this.o.state.set('enrolment.refusedCode', { code, boxId: identity.boxId, reason: json.code });
      this.o.audit.append({ actor: 'box', action: 'enrolment.refused', target: this.hubId, outcome: 'refused', details: { status: res.status, code: json.code, message: json.message } });
      this.o.log.warn({ status: res.status, code: json.code }, 'hub refused enrolment');
      return;
    }
    const verdict = verifyDocument(json as { payload: unknown; signature: unknown }, [this.o.hubPublicKey]);
    if (!verdict.ok || json.payload?.boxId !== identity.boxId || json.payload?.hubBoxId !== this.hubId) {
      this.status.enrolmentProblem = 'E_HUB_KEY_MISMATCH';
      this.o.log.error({ verdict }, 'enrolment answer not signed by the hub named in the bundle');
      return;
    }
    const enrolment: Enrolment = { hubBoxId: this.hubId, myBoxId: identity.boxId, enrolledAt: this.o.clock.now() };
    this.o.state.set('enrolment', enrolment);
    this.status.enrolled = true;
    this.status.enrolmentProblem = null;
    this.o.audit.append({ actor: 'box', action: 'enrolment.done', target: this.hubId, outcome: 'ok' });
    this.o.log.info({ hubBoxId: this.hubId }, 'enrolled with hub');
  }

  private async checkTime(): Promise<void> {
    const token = await this.o.hub.token(); // signed before the round trip starts: its cost is not network time
    const sent = Date.now();
    const res = await this.o.hub.request('/api/peer/time', { headers: { authorization: `Bearer ${token}` }, anonymous: true, timeoutMs: 5000, maxBytes: 4096 });
    const received = Date.now();
    if (!res.ok) {
      const body = ((): unknown => { try { return res.json(); } catch { return {}; } })() as { code?: string; details?: { reason?: string } };
      if (res.status === 401 && (body.details?.reason === 'unknown-box' || body.details?.reason === 'revoked')) {
        this.status.enrolled = false;
        this.status.enrolmentProblem = body.details.reason;
      }
      throw new Error(`hub answered ${res.status} ${body.code ?? ''} ${body.details?.reason ?? ''}`.trim());
    }
    const { time } = res.json<{ time: number }>();
    if (!Number.isFinite(time)) throw new Error('the hub sent no time');
    // Follow the hub's clock: rural clocks are often wrong, the hub is the reference.
    const offset = this.offsets.add(Math.round(time - (sent + received) / 2), received - sent, received);
    this.o.clock.setOffset(offset);
    this.o.metrics.clockOffset.set(offset / 1000);
    this.o.metrics.hubReachable.set(1);
    this.status.reachable = true;
    this.status.lastContactAt = this.o.clock.now();
    this.status.lastError = null;
  }
}
