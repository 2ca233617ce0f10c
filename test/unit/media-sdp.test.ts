import { describe, it, expect } from 'vitest';
import { checkOffer } from '../../media/sdp.js';
import { BoxError } from '../../core/errors.js';

const good = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=fingerprint:sha-256 AA:BB', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=ice-ufrag:abcd', 'a=rtpmap:96 VP8/90000', ''].join('\r\n');

describe('SDP offer check', () => {
  it('accepts a plausible offer', () => {
    expect(checkOffer(good)).toBe(good);
  });
  it.each([
    ['empty', ''],
    ['not text', 42],
    ['no v=0', good.replace('v=0', 'v=1')],
    ['junk line', `${good}hello world\r\n`],
    ['no media', good.replace(/m=video.*\r\n/, '')],
    ['no ICE', good.replace('a=ice-ufrag:abcd', 'a=foo')],
    ['oversized', `${good}${'a=x\r\n'.repeat(20000)}`],
  ])('refuses %s with E_SDP_MALFORMED', (_name, sdp) => {
    try {
      checkOffer(sdp);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BoxError);
      expect((e as BoxError).code).toBe('E_SDP_MALFORMED');
      expect((e as BoxError).status).toBe(400);
    }
  });
});
