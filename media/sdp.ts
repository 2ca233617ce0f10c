import { BoxError } from '../core/errors.js';

const MAX_SDP = 64 * 1024;

/**
 * Rejects what cannot be an SDP offer before werift sees it: werift throws odd errors (or hangs
 * gathering) on garbage, and a client deserves a 400 that says what is wrong.
 */
export function checkOffer(sdp: unknown): string {
  if (typeof sdp !== 'string' || sdp.trim() === '') throw new BoxError('E_SDP_MALFORMED', 'The request body must be an SDP offer (application/sdp).');
  if (sdp.length > MAX_SDP) throw new BoxError('E_SDP_MALFORMED', `The SDP offer is larger than ${MAX_SDP} bytes.`);
  const lines = sdp.split(/\r?\n/).filter((l) => l !== '');
  if (lines[0] !== 'v=0') throw new BoxError('E_SDP_MALFORMED', 'The SDP offer must start with "v=0".');
  const bad = lines.find((l) => !/^[a-z]=/.test(l));
  if (bad !== undefined) throw new BoxError('E_SDP_MALFORMED', `The SDP offer has a line that is not "<letter>=<value>": ${JSON.stringify(bad.slice(0, 60))}.`);
  const media = lines.filter((l) => l.startsWith('m='));
  if (media.length === 0) throw new BoxError('E_SDP_MALFORMED', 'The SDP offer has no media section (m=).');
  if (media.some((m) => !/^m=(audio|video|application) \d+ [A-Z/]+( [\w-]+)+$/.test(m))) {
    throw new BoxError('E_SDP_MALFORMED', 'The SDP offer has a malformed m= line.');
  }
  if (!lines.some((l) => l.startsWith('a=ice-ufrag:')) || !lines.some((l) => l.startsWith('a=fingerprint:'))) {
    throw new BoxError('E_SDP_MALFORMED', 'The SDP offer lacks ICE credentials or a DTLS fingerprint.');
  }
  return sdp;
}
