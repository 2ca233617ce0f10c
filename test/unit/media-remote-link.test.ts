// Where a media link sends its DELETE: the session Location, resolved as WHIP/WHEP clients must (it may
// be relative), and only when it stays under the hub's base URL (the box token goes nowhere else).
import { describe, it, expect } from 'vitest';
import { PeerClient } from '../../core/peer-client.js';
import { generateKeyPair } from '../../core/signing.js';
import { systemClock } from '../../core/clock.js';
import { sessionPath } from '../../media/remote-link.js';

const peer = (baseUrl: string) => new PeerClient({ baseUrl, peerBoxId: 'hub', identity: { ...generateKeyPair(), boxId: 'tp' }, clock: systemClock });

describe('media link session Location', () => {
  it('takes an absolute path, a relative path and a full URL on the hub', () => {
    const hub = peer('http://127.0.0.1:8420');
    expect(sessionPath(hub, '/whep/l1', '/whep/l1/abc')).toBe('whep/l1/abc');
    expect(sessionPath(hub, '/whep/l1', 'l1/abc')).toBe('whep/l1/abc');
    expect(sessionPath(hub, '/whep/l1', 'http://127.0.0.1:8420/whep/l1/abc?x=1')).toBe('whep/l1/abc?x=1');
    expect(hub.url(sessionPath(hub, '/whep/l1', '/whep/l1/abc')!).href).toBe('http://127.0.0.1:8420/whep/l1/abc');
  });

  it('keeps a base path prefix', () => {
    const hub = peer('https://hub.example/box');
    expect(sessionPath(hub, '/whip/l1~tp', 'l1~tp/s1')).toBe('whip/l1~tp/s1');
    expect(sessionPath(hub, '/whip/l1~tp', '/box/whip/l1~tp/s1')).toBe('whip/l1~tp/s1');
  });

  it('refuses a Location elsewhere', () => {
    expect(sessionPath(peer('http://127.0.0.1:8420'), '/whep/l1', 'http://203.0.113.9/whep/l1/abc')).toBeUndefined();
    expect(sessionPath(peer('http://127.0.0.1:8420'), '/whep/l1', '//203.0.113.9/x')).toBeUndefined();
    expect(sessionPath(peer('https://hub.example/box'), '/whep/l1', '/other/abc')).toBeUndefined();
  });
});
