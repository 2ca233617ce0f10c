// A teaching-point site for the ladder test: its own network namespace with two veth pairs — the "WAN"
// the lesson travels on (shaped with tc tbf in the hub→site direction, random loss by nftables inside
// the site, outages by link down) and an unshaped management link the test reads status over, so the
// test's own polling never competes with the lesson. remove() undoes everything, even after a failure.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CLI, ROOT, type Daemon } from './daemon.js';

function run(cmd: string, args: string[], input?: string): void {
  execFileSync(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], input });
}

export interface LadderSite {
  ns: string;
  hubAddress: string;
  siteAddress: string;
  /** The site's address on the management link (unshaped). */
  mgmtAddress: string;
  spawnCli(args: string[]): Daemon;
  /** Hub→site rate limit (token bucket on the hub's end of the WAN veth). */
  shape(kbit: number): void;
  /** Random drop of this percentage of what reaches the site over the WAN (0 removes the rule). */
  loss(pct: number): void;
  linkDown(): void;
  linkUp(): void;
  remove(): void;
}

export function createLadderSite(): LadderSite {
  const id = randomBytes(3).toString('hex');
  const ns = `tpb-ladder-${id}`;
  const wanHost = `tpblw${id}`;
  const wanSite = `tpblx${id}`;
  const mgmtHost = `tpblm${id}`;
  const mgmtSite = `tpbln${id}`;
  const a = 128 + (parseInt(id.slice(0, 2), 16) % 128);
  const b = parseInt(id.slice(2, 4), 16);
  const c = (parseInt(id.slice(4, 6), 16) % 32) * 8;
  const hubAddress = `10.${a}.${b}.${c + 1}`;
  const siteAddress = `10.${a}.${b}.${c + 2}`;
  const mgmtHostAddress = `10.${a}.${b}.${c + 5}`;
  const mgmtAddress = `10.${a}.${b}.${c + 6}`;
  const removeAll = () => {
    for (const dev of [wanHost, mgmtHost]) {
      try { run('ip', ['link', 'del', dev]); } catch { /* gone with the namespace */ }
    }
    try { run('ip', ['netns', 'del', ns]); } catch { /* never made */ }
  };
  try {
    run('ip', ['netns', 'add', ns]);
    for (const [h, s, ha, sa] of [[wanHost, wanSite, hubAddress, siteAddress], [mgmtHost, mgmtSite, mgmtHostAddress, mgmtAddress]] as const) {
      run('ip', ['link', 'add', h, 'type', 'veth', 'peer', 'name', s]);
      run('ip', ['link', 'set', s, 'netns', ns]);
      run('ip', ['addr', 'add', `${ha}/30`, 'dev', h]);
      run('ip', ['link', 'set', h, 'up']);
      run('ip', ['-n', ns, 'addr', 'add', `${sa}/30`, 'dev', s]);
      run('ip', ['-n', ns, 'link', 'set', s, 'up']);
    }
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // Media must take the WAN: ICE would otherwise happily pick the unshaped management pair.
    run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], `table inet tpbmgmt {\n chain in {\n  type filter hook input priority 0; policy accept;\n  iifname "${mgmtSite}" meta l4proto udp drop\n }\n chain out {\n  type filter hook output priority 0; policy accept;\n  oifname "${mgmtSite}" meta l4proto udp drop\n }\n}\n`);
  } catch (e) {
    removeAll();
    throw e;
  }
  let lossOn = false;
  return {
    ns, hubAddress, siteAddress, mgmtAddress,
    spawnCli: (args) => {
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, stdout: () => out, stderr: () => err, exited };
    },
    shape: (kbit) => {
      // Burst: at least a few full packets, about 100 ms of the rate above that.
      const burst = Math.max(4096, Math.round((kbit * 1000) / 8 / 10));
      run('tc', ['qdisc', 'replace', 'dev', wanHost, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', String(burst), 'latency', '300ms']);
    },
    loss: (pct) => {
      if (lossOn) run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'tpbladder']);
      lossOn = false;
      if (pct <= 0) return;
      run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], `table inet tpbladder {\n chain in {\n  type filter hook input priority 0; policy accept;\n  iifname "${wanSite}" numgen random mod 100 < ${pct} drop\n }\n}\n`);
      lossOn = true;
    },
    linkDown: () => run('ip', ['link', 'set', wanHost, 'down']),
    linkUp: () => run('ip', ['link', 'set', wanHost, 'up']),
    remove: removeAll,
  };
}
