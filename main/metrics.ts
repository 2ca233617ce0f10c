import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

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
