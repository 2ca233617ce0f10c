// A client that asks the control channel for replays of a long lesson and never reads them: the daemon
// (a real child process) pages the replay against the socket's buffer, so its memory stays put.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WebSocket } from 'ws';
import type { ControlFrame } from '../../core/contract/lesson.js';
import { daemonFolder, tempDir } from '../support/boxes.js';
import { spawnCli, waitFor, type Daemon } from '../support/daemon.js';
import { createLesson, mediaToken } from '../support/live-boxes.js';

const MB = 1024 * 1024;
const EVENTS = 3000;
const CLIENTS = 4;
const HELLOS = 10;

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** A realistic long lesson: page turns and pen strokes of ~3 kB (a few hundred points each). */
function writeTimeline(dataDir: string, lessonId: string, sender: string): number {
  const db = new Database(join(dataDir, 'box.sqlite'));
  db.pragma('busy_timeout = 5000');
  const ins = db.prepare('INSERT INTO lesson_events (lesson_id, sender, seq, type, body, at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  let bytes = 0;
  db.transaction(() => {
    for (let i = 1; i <= EVENTS; i++) {
      const points = Array.from({ length: 150 }, (_, k) => [Math.round((0.1 + (k % 80) / 100) * 1e4) / 1e4, Math.round((0.2 + ((i + k) % 60) / 100) * 1e4) / 1e4]);
      const body = JSON.stringify(i % 20 === 0 ? { item: 'item-1', page: i / 20 } : { page: Math.ceil(i / 20), points, color: '#d92d20', width: 4 });
      bytes += body.length;
      ins.run(lessonId, sender, i, i % 20 === 0 ? 'page' : 'stroke', body, i * 800, Date.now());
    }
  })();
  db.close();
  return bytes;
}

/** The calls made on a `ws` client socket (the package has no types here). */
interface Client {
  send(data: string): void;
  close(): void;
  terminate(): void;
  on(ev: 'message', fn: (d: Buffer) => void): void;
  once(ev: string, fn: (...a: never[]) => void): void;
  /** The TCP socket underneath: paused, the client reads nothing more. */
  _socket: { pause(): void };
}

/** Opens the control channel with the token in the header; resolves once the upgrade is done. */
function connect(url: string, token: string): Promise<Client> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } }) as Client;
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('control replay memory', () => {
  const dir = tempDir('box-replay-mem-');
  let daemon: Daemon | undefined;
  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    dir.remove();
  });

  it(`${CLIENTS} clients × ${HELLOS} hello replays of a ${EVENTS}-event timeline that never read grow the daemon by less than 50 MB`, async () => {
    const { port, dataDir, configFile, url } = await daemonFolder(dir.path, { role: 'hub', schoolId: 'hub-school', name: '中心校' });
    daemon = spawnCli(['start', '--config', configFile]);
    await waitFor(async () => {
      if (daemon!.child.exitCode !== null) throw new Error(`daemon exited: ${daemon!.stderr()}`);
      return (await fetch(`${url}/api/health`)).ok ? true : undefined;
    }, 30_000);
    const lesson = await createLesson(url, []);
    const timelineBytes = writeTimeline(dataDir, lesson.id, 'box-hub');
    const token = await mediaToken(url, 'view');
    const wsUrl = `ws://127.0.0.1:${port}/api/lessons/${lesson.id}/control`;

    // A client that reads: the whole timeline, in order (and the daemon's normal cost of one replay).
    const readAll = async () => {
      const ws = await connect(wsUrl, token);
      let n = 0;
      let last = 0;
      ws.on('message', (d: Buffer) => {
        const f = JSON.parse(d.toString()) as ControlFrame;
        if (f.t === 'event' && f.event.id > last) { n++; last = f.event.id; }
      });
      ws.send(JSON.stringify({ t: 'hello', sender: 'reader', since: 0 } satisfies ControlFrame));
      await waitFor(() => (n === EVENTS ? true : undefined), 30_000);
      ws.close();
      return n;
    };
    expect(await readAll()).toBe(EVENTS);
    await new Promise((r) => setTimeout(r, 1000));
    const pid = daemon.child.pid!;
    const before = rssBytes(pid);

    const sockets: Client[] = [];
    for (let c = 0; c < CLIENTS; c++) {
      const ws = await connect(wsUrl, token);
      // Never read again: the kernel buffers fill and the box's send buffer is all that can grow.
      ws._socket.pause();
      for (let h = 0; h < HELLOS; h++) ws.send(JSON.stringify({ t: 'hello', sender: 'slow', since: 0 } satisfies ControlFrame));
      sockets.push(ws);
    }
    let peak = before;
    for (let i = 0; i < 16; i++) {
      await new Promise((r) => setTimeout(r, 500));
      peak = Math.max(peak, rssBytes(pid));
    }
    console.log(`replay memory: timeline ${(timelineBytes / MB).toFixed(1)} MB in ${EVENTS} events; daemon RSS ${(before / MB).toFixed(0)} MB before, peak ${(peak / MB).toFixed(0)} MB with ${CLIENTS}×${HELLOS} unread replays (+${((peak - before) / MB).toFixed(1)} MB)`);
    expect(peak - before).toBeLessThan(50 * MB);

    // The box goes on serving everyone else.
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
    expect(await readAll()).toBe(EVENTS);
    for (const ws of sockets) ws.terminate();
  }, 120_000);
});
