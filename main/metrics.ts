import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';
import type { RecordingTransfer } from '../core/contract/recording.js';
import type { HardwareHealth } from '../core/contract/hardware.js';

/** One registry per box (no prom-client global), so several boxes can run in one process. */
export function createMetrics(labels: { role: string; boxId: string }) {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: 'box_process_' });
  return {
    registry,
    httpRequests: new Counter({ name: 'box_http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    httpDuration: new Histogram({ name: 'box_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['route'], buckets: [0.005, 0.02, 0.1, 0.5, 2], registers: [registry] }),
    authRefused: new Counter({ name: 'box_auth_refused_total', help: 'Box-to-box calls refused', labelNames: ['reason'], registers: [registry] }),
    pinFailures: new Counter({ name: 'box_pin_failures_total', help: 'Wrong settings PIN attempts', registers: [registry] }),
    pinLockouts: new Counter({ name: 'box_pin_lockouts_total', help: 'Settings PIN lockouts', registers: [registry] }),
    hubReachable: new Gauge({ name: 'box_hub_reachable', help: '1 when the hub answered the last check', registers: [registry] }),
    clockOffset: new Gauge({ name: 'box_clock_offset_seconds', help: 'Offset applied to follow the hub clock', registers: [registry] }),
    diskFree: new Gauge({ name: 'box_disk_free_bytes', help: 'Free bytes on the data disk', registers: [registry] }),
    uptime: new Gauge({ name: 'box_uptime_seconds', help: 'Seconds since the daemon started', registers: [registry] }),
  };
}

export type BoxMetrics = ReturnType<typeof createMetrics>;

/** What the media gauges read at scrape time (kept structural so metrics.ts needs no media import). */
export interface MediaMetricsSource {
  counts(): { peerConnections: number; rooms: number; sessions: number; publishers: number; subscribers: number };
  traffic: { inPackets: number; inBytes: number; outPackets: number; outBytes: number };
  plisSent: number;
  /** SRTP of forwarded packets through the native addon (false: the JS fallback, several times the CPU). */
  nativeSrtp: boolean;
  links(): Array<{ direction: 'pull' | 'push'; state: string; connects: number }>;
}

/** Live-media gauges, read from the SFU and the lesson links when Prometheus scrapes. */
export function registerMediaMetrics(registry: Registry, m: MediaMetricsSource): void {
  const counts = (key: 'peerConnections' | 'rooms' | 'sessions' | 'publishers' | 'subscribers', name: string, help: string) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(m.counts()[key]); } });
  counts('rooms', 'box_media_rooms', 'Live rooms on this box');
  counts('publishers', 'box_media_publishers', 'Rooms with a source (publisher, relay pull or camera feed)');
  counts('subscribers', 'box_media_subscribers', 'Subscribers (WHEP players and pushes to the hub)');
  counts('peerConnections', 'box_media_peer_connections', 'Open WebRTC peer connections');
  counts('sessions', 'box_media_sessions', 'Open WHIP/WHEP sessions');
  // Totals only grow; exposed as gauges set from the SFU's own counters at scrape time.
  new Gauge({ name: 'box_media_forwarded_packets', help: 'RTP packets since start, in from sources / out to subscribers', labelNames: ['direction'], registers: [registry], collect() {
    this.set({ direction: 'in' }, m.traffic.inPackets);
    this.set({ direction: 'out' }, m.traffic.outPackets);
  } });
  new Gauge({ name: 'box_media_forwarded_bytes', help: 'RTP bytes since start, in from sources / out to subscribers', labelNames: ['direction'], registers: [registry], collect() {
    this.set({ direction: 'in' }, m.traffic.inBytes);
    this.set({ direction: 'out' }, m.traffic.outBytes);
  } });
  new Gauge({ name: 'box_media_srtp_native', help: '1 when forwarded packets are SRTP-protected by the native addon, 0 on the JS fallback', registers: [registry], collect() { this.set(m.nativeSrtp ? 1 : 0); } });
  new Gauge({ name: 'box_media_plis_sent', help: 'Keyframe requests (PLI) sent to sources since start', registers: [registry], collect() { this.set(m.plisSent); } });
  new Gauge({ name: 'box_media_links', help: 'Box-to-box lesson links by direction and state', labelNames: ['direction', 'state'], registers: [registry], collect() {
    this.reset();
    for (const d of ['pull', 'push'] as const) for (const s of ['connecting', 'connected', 'retrying']) this.set({ direction: d, state: s }, 0);
    for (const l of m.links()) this.inc({ direction: l.direction, state: l.state });
  } });
  new Gauge({ name: 'box_media_link_reconnects', help: 'Reconnections of the current lesson links (connects after the first)', labelNames: ['direction'], registers: [registry], collect() {
    const by = { pull: 0, push: 0 };
    for (const l of m.links()) by[l.direction] += Math.max(0, l.connects - 1);
    this.set({ direction: 'pull' }, by.pull);
    this.set({ direction: 'push' }, by.push);
  } });
}

/** What the recording gauges read at scrape time (null on a box that does not record). */
export interface RecordingMetricsSource {
  status(): { enabled: boolean; active: Array<{ segments: number }>; warning: { code: string } | null } | null;
  /** Recordings moving between boxes (core/contract/recording.ts RecordingTransfer). */
  transfers?(): Array<Pick<RecordingTransfer, 'recordingId' | 'direction' | 'state' | 'reason' | 'bytes' | 'doneBytes' | 'progress' | 'linkBytes'>>;
}

const TRANSFER_STATES: RecordingTransfer['state'][] = ['waiting', 'moving', 'paused', 'done', 'failed'];

/** Lesson recording: on or off, rooms being recorded, segments written, and a stop with a warning. */
export function registerRecordingMetrics(registry: Registry, m: RecordingMetricsSource): void {
  new Gauge({ name: 'box_recording_enabled', help: '1 when lessons are recorded on this box', registers: [registry], collect() { this.set(m.status()?.enabled ? 1 : 0); } });
  new Gauge({ name: 'box_recording_active_rooms', help: 'Rooms being recorded now', registers: [registry], collect() { this.set(m.status()?.active.length ?? 0); } });
  new Gauge({ name: 'box_recording_segments', help: 'Segments written by the recordings running now', registers: [registry], collect() {
    this.set((m.status()?.active ?? []).reduce((a, r) => a + r.segments, 0));
  } });
  new Gauge({ name: 'box_recording_warning', help: '1 while recording is stopped with a warning (e.g. E_DISK_FULL)', labelNames: ['code'], registers: [registry], collect() {
    this.reset();
    const w = m.status()?.warning;
    if (w) this.set({ code: w.code }, 1);
  } });
  const transfers = m.transfers;
  if (!transfers) return;
  new Gauge({ name: 'box_recording_transfers', help: 'Recordings moving between boxes, by direction and state (paused: held by the link plan)', labelNames: ['direction', 'state'], registers: [registry], collect() {
    this.reset();
    for (const d of ['download', 'upload'] as const) for (const s of TRANSFER_STATES) this.set({ direction: d, state: s }, 0);
    for (const t of transfers()) this.inc({ direction: t.direction, state: t.state });
  } });
  new Gauge({ name: 'box_recording_transfer_pending_bytes', help: 'Bytes of recordings still to move (not verified by the receiver yet)', labelNames: ['direction'], registers: [registry], collect() {
    const by = { download: 0, upload: 0 };
    for (const t of transfers()) if (t.state !== 'done') by[t.direction] += Math.max(0, t.bytes - t.doneBytes);
    this.set({ direction: 'download' }, by.download);
    this.set({ direction: 'upload' }, by.upload);
  } });
  new Gauge({ name: 'box_recording_transfer_link_bytes', help: 'Bytes of recordings this box received / sent over the link since it started (duplicates included)', labelNames: ['direction'], registers: [registry], collect() {
    const by = { download: 0, upload: 0 };
    for (const t of transfers()) by[t.direction] += t.linkBytes;
    this.set({ direction: 'download' }, by.download);
    this.set({ direction: 'upload' }, by.upload);
  } });
  // Per recording only while it is not done, so finished recordings do not pile up as series.
  new Gauge({ name: 'box_recording_transfer_progress', help: 'Share (0..1) of an unfinished recording transfer verified by the receiver; reason: plan reason or error code', labelNames: ['direction', 'recording', 'state', 'reason'], registers: [registry], collect() {
    this.reset();
    for (const t of transfers()) if (t.state !== 'done') this.set({ direction: t.direction, recording: t.recordingId, state: t.state, reason: t.reason ?? '' }, t.progress);
  } });
}

/** What the hardware metrics read: the health at scrape time, and every PTZ preset command's outcome. */
export interface HardwareMetricsSource {
  health(): Promise<HardwareHealth>;
  onPtzResult(fn: (r: { role: string; preset: string; ok: boolean; code?: string; tookMs: number }) => void): () => void;
}

/** Devices seen, temperature, unclean shutdowns, disk trend and SMART; PTZ commands and their time. */
export function registerHardwareMetrics(registry: Registry, m: HardwareMetricsSource): void {
  const ptzCommands = new Counter({ name: 'box_hardware_ptz_commands_total', help: 'PTZ preset commands by camera role and outcome', labelNames: ['role', 'preset', 'outcome'], registers: [registry] });
  const ptzSeconds = new Histogram({ name: 'box_hardware_ptz_seconds', help: 'Time for a PTZ camera to confirm a preset', labelNames: ['role'], buckets: [0.1, 0.5, 1, 3, 10], registers: [registry] });
  m.onPtzResult((r) => {
    ptzCommands.inc({ role: r.role, preset: r.preset, outcome: r.ok ? 'ok' : r.code ?? 'error' });
    if (r.ok) ptzSeconds.observe({ role: r.role }, r.tookMs / 1000);
  });
  // One health reading serves all the gauges of a scrape (prom-client awaits async collect()); SMART and
  // device discovery are too slow to run once per gauge.
  let scrape: Promise<HardwareHealth> | undefined;
  const snapshot = () => (scrape ??= m.health().finally(() => setTimeout(() => { scrape = undefined; }, 1000).unref()));
  const gauge = (name: string, help: string, read: (h: HardwareHealth) => number | null) =>
    new Gauge({
      name, help, registers: [registry],
      async collect() {
        const v = read(await snapshot());
        if (v === null) this.reset();
        else this.set(v);
      },
    });
  gauge('box_hardware_cameras', 'Cameras the box can see', (h) => h.cameras.count);
  gauge('box_hardware_microphones', 'Microphones the box can see', (h) => h.microphones.count);
  gauge('box_hardware_cpu_temperature_celsius', 'CPU temperature', (h) => h.cpuTemperatureC);
  gauge('box_hardware_unclean_shutdowns', 'Starts that found the previous run had not stopped cleanly (all time)', (h) => h.uncleanShutdowns.count);
  gauge('box_hardware_disk_free_trend_bytes_per_day', 'Change of free disk space per day over the last week', (h) => h.disk.trendBytesPerDay);
  gauge('box_hardware_disks_failing', 'Disks whose SMART data shows a problem', (h) => (h.smart ? h.smart.filter((d) => d.problem !== null).length : null));
}
