// Real Debian Chromium WebRTC peers for the live-lesson tests: a WHIP publisher with the fake camera
// and microphone, and WHEP players whose decode stats the tests read.
import type { Browser, Page } from 'playwright-core';

export interface PlayerStats {
  framesDecoded: number;
  frameWidth: number;
  videoWidth: number;
  audioPackets: number;
  connection: string;
  /** mimeType of the codec the inbound video uses ('' before any). */
  videoCodec: string;
}

/** Opens a page on the box's own origin (a secure context on 127.0.0.1, same-origin fetch). */
export async function pageOn(browser: Browser, baseUrl: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${baseUrl}/api/health`);
  return page;
}

/** WHIP-publishes the fake camera (small, to spare two cores) and microphone; returns the Location. */
export async function publish(page: Page, url: string, token: string, opts: { width?: number; height?: number; simulcast?: boolean; codec?: 'video/H264' | 'video/VP8' } = {}): Promise<string> {
  return page.evaluate(async ({ url, token, width, height, simulcast, codec }) => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width, height, frameRate: 15 }, audio: true });
    const pc = new RTCPeerConnection();
    const [video] = stream.getVideoTracks();
    const [audio] = stream.getAudioTracks();
    const vt = pc.addTransceiver(video!, {
      direction: 'sendonly',
      ...(simulcast ? { sendEncodings: [{ rid: 'l', scaleResolutionDownBy: 4 }, { rid: 'm', scaleResolutionDownBy: 2 }, { rid: 'h' }] } : {}),
    });
    if (codec) {
      const only = RTCRtpSender.getCapabilities('video')!.codecs.filter((c) => c.mimeType === codec);
      if (only.length === 0) throw new Error(`this browser cannot send ${codec}`);
      vt.setCodecPreferences(only);
    }
    pc.addTransceiver(audio!, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((r) => {
      if (pc.iceGatheringState === 'complete') return r();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
      setTimeout(r, 3000);
    });
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` }, body: pc.localDescription!.sdp });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`WHIP ${res.status}: ${body}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    (window as unknown as { pub: RTCPeerConnection }).pub = pc;
    return new URL(res.headers.get('location')!, url).toString();
  }, { url, token, width: opts.width ?? 320, height: opts.height ?? 240, simulcast: opts.simulcast ?? false, codec: opts.codec });
}

/** WHEP-plays a room into a <video> element; returns the Location. */
export async function play(page: Page, url: string, token: string): Promise<string> {
  return page.evaluate(async ({ url, token }) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    document.body.appendChild(video);
    const stream = new MediaStream();
    pc.ontrack = (e) => {
      stream.addTrack(e.track);
      video.srcObject = stream;
      void video.play().catch(() => undefined);
    };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((r) => {
      if (pc.iceGatheringState === 'complete') return r();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
      setTimeout(r, 3000);
    });
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` }, body: pc.localDescription!.sdp });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`WHEP ${res.status}: ${body}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    Object.assign(window, { sub: pc, subVideo: video });
    return new URL(res.headers.get('location')!, url).toString();
  }, { url, token });
}

export async function playerStats(page: Page): Promise<PlayerStats> {
  return page.evaluate(async () => {
    const w = window as unknown as { sub?: RTCPeerConnection; subVideo?: HTMLVideoElement };
    const out = { framesDecoded: 0, frameWidth: 0, videoWidth: w.subVideo?.videoWidth ?? 0, audioPackets: 0, connection: w.sub?.connectionState ?? 'none', videoCodec: '' };
    if (!w.sub) return out;
    const report = await w.sub.getStats();
    report.forEach((s: { type: string; kind?: string; framesDecoded?: number; frameWidth?: number; packetsReceived?: number; codecId?: string }) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') {
        out.framesDecoded += s.framesDecoded ?? 0;
        const codec = s.codecId ? (report.get(s.codecId) as { mimeType?: string } | undefined) : undefined;
        if (codec?.mimeType) out.videoCodec = codec.mimeType;
        out.frameWidth = Math.max(out.frameWidth, s.frameWidth ?? 0);
      } else if (s.kind === 'audio') out.audioPackets += s.packetsReceived ?? 0;
    });
    return out;
  });
}

/** Waits until video decodes and keeps decoding, and audio packets keep arriving. */
export async function expectPlaying(page: Page, timeoutMs = 20_000): Promise<{ first: PlayerStats; later: PlayerStats }> {
  const deadline = Date.now() + timeoutMs;
  let first: PlayerStats | undefined;
  let last: PlayerStats = await playerStats(page);
  while (Date.now() < deadline) {
    last = await playerStats(page);
    if (!first && last.framesDecoded > 0 && last.videoWidth > 0 && last.audioPackets > 0) first = last;
    else if (first && last.framesDecoded > first.framesDecoded + 5 && last.audioPackets > first.audioPackets + 10) return { first, later: last };
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`player did not play within ${timeoutMs} ms: ${JSON.stringify({ first, last })}`);
}
