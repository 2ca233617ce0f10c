// Counts this process's open UDP sockets: socket inodes among /proc/self/fd that /proc/net/udp{,6} list.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function udpInodes(): Set<string> {
  const out = new Set<string>();
  for (const f of ['/proc/self/net/udp', '/proc/self/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9) out.add(cols[9]!);
    }
  }
  return out;
}

export function openUdpSockets(): number {
  const inodes = udpInodes();
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m && inodes.has(m[1]!)) n++;
    } catch {
      // the fd closed while we looked
    }
  }
  return n;
}
