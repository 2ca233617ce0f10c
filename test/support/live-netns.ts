// A teaching-point "site" in its own network namespace, joined to the test's namespace by a veth
// pair that plays the WAN link; everything made here is removed by remove(), even after a failure.
import { execFileSync, spawn } from 'node:child_process';
import { CLI, ROOT, type Daemon } from './daemon.js';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

export interface Site {
  ns: string;
  hostSide: string;
  hubAddress: string;
  siteAddress: string;
  /** A Chromium executable that runs inside the namespace (for playwright's executablePath). */
  chromium: string;
  /** Runs the compiled `box` CLI inside the namespace. */
  spawnCli(args: string[]): Daemon;
  linkDown(): void;
  linkUp(): void;
  remove(): void;
}

export function createSite(dir: string): Site {
  const id = randomBytes(3).toString('hex');
  const ns = `tpb-media-${id}`;
  const hostSide = `tpbmh${id}`;
  const siteSide = `tpbms${id}`;
  // A /30 in 10.128.0.0/9 chosen at random: unlikely to meet another helper's namespace.
  const a = 128 + (parseInt(id.slice(0, 2), 16) % 128);
  const b = parseInt(id.slice(2, 4), 16);
  const c = (parseInt(id.slice(4, 6), 16) % 64) * 4;
  const hubAddress = `10.${a}.${b}.${c + 1}`;
  const siteAddress = `10.${a}.${b}.${c + 2}`;
  const removeAll = () => {
    try { ip('link', 'del', hostSide); } catch { /* already gone with the namespace */ }
    try { ip('netns', 'del', ns); } catch { /* never made */ }
  };
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', siteSide);
    ip('link', 'set', siteSide, 'netns', ns);
    ip('addr', 'add', `${hubAddress}/30`, 'dev', hostSide);
    ip('link', 'set', hostSide, 'up');
    ip('-n', ns, 'addr', 'add', `${siteAddress}/30`, 'dev', siteSide);
    ip('-n', ns, 'link', 'set', siteSide, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  } catch (e) {
    removeAll();
    throw e;
  }
  const chromium = join(dir, `chromium-in-${ns}.sh`);
  writeFileSync(chromium, `#!/bin/sh\nexec ip netns exec ${ns} /usr/bin/chromium "$@"\n`);
  chmodSync(chromium, 0o755);
  return {
    ns, hostSide, hubAddress, siteAddress, chromium,
    spawnCli: (args) => {
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, stdout: () => out, stderr: () => err, exited };
    },
    linkDown: () => ip('link', 'set', hostSide, 'down'),
    linkUp: () => ip('link', 'set', hostSide, 'up'),
    remove: removeAll,
  };
}
