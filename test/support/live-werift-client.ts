// A WHIP/WHEP client built on werift, for tests that need many quick sessions without a browser.
import { RTCPeerConnection, type RtpPacket } from 'werift';
import { defaultIce, gatheringComplete, peerConfig } from '../../media/peer-config.js';

export interface ClientSession {
  pc: RTCPeerConnection;
  location: string;
  status: number;
  received: () => number;
  close(): Promise<void>;
}

/** Posts an offer from a fresh werift peer; resolves with the HTTP outcome and the connected peer. */
export async function weriftSession(kind: 'whip' | 'whep', url: string, token: string | undefined): Promise<ClientSession> {
  const pc = new RTCPeerConnection(peerConfig(defaultIce));
  const dir = kind === 'whep' ? 'recvonly' : 'sendonly';
  const v = pc.addTransceiver('video', { direction: dir });
  pc.addTransceiver('audio', { direction: dir });
  let received = 0;
  v.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((_p: RtpPacket) => received++));
  await pc.setLocalDescription(await pc.createOffer());
  await gatheringComplete(pc);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: pc.localDescription!.sdp,
  });
  const body = await res.text();
  const loc = res.headers.get('location');
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
  return {
    pc, status: res.status, location: loc ? new URL(loc, url).toString() : '', received: () => received,
    close: () => pc.close(),
  };
}
