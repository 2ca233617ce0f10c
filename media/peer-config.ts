import {
  RTCPeerConnection, useH264, useOPUS, useVP8, useSdesMid, useSdesRTPStreamId, useRepairedRtpStreamId,
  type PeerConfig, type RTCRtpCodecParameters,
} from 'werift';

export type VideoCodec = 'video/vp8' | 'video/h264';

export interface IceSettings {
  /** Extra host addresses to gather on: werift skips loopback unless named here. */
  additionalHostAddresses: string[];
  /** STUN/TURN the box may use; empty by default because nothing may reach outside. */
  iceServers: Array<{ urls: string; username?: string; credential?: string }>;
}

export const defaultIce: IceSettings = { additionalHostAddresses: ['127.0.0.1'], iceServers: [] };

function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1';
}

function videoCodecs(only?: VideoCodec): RTCRtpCodecParameters[] {
  // No transport-cc on any leg: werift's feedback for it is broken; REMB from the SFU steers publishers.
  const vp8 = useVP8();
  const h264 = useH264();
  if (only === 'video/vp8') return [vp8];
  if (only === 'video/h264') return [h264];
  return [vp8, h264];
}

/** A werift peer configuration for the box: no public STUN, loopback usable, VP8/H.264 + Opus. */
export function peerConfig(ice: IceSettings, video?: VideoCodec): Partial<PeerConfig> {
  return {
    iceServers: ice.iceServers,
    iceAdditionalHostAddresses: ice.additionalHostAddresses,
    // A loopback candidate only pairs with a loopback candidate: mixed pairs never connect and slow ICE down.
    iceFilterCandidatePair: (pair) => isLoopback(pair.localCandidate.host) === isLoopback(pair.remoteCandidate.host),
    codecs: { video: videoCodecs(video), audio: [useOPUS()] },
    headerExtensions: {
      video: [useSdesMid(), useSdesRTPStreamId(), useRepairedRtpStreamId()],
      audio: [useSdesMid()],
    },
    bundlePolicy: 'max-bundle',
  };
}

/** Resolves when ICE gathering is complete, so a WHIP/WHEP answer carries every candidate (no trickle). */
export async function gatheringComplete(pc: RTCPeerConnection, timeoutMs = 5000): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const { unSubscribe } = pc.iceGatheringStateChange.subscribe((s) => {
      if (s === 'complete') done();
    });
    function done() {
      clearTimeout(timer);
      unSubscribe();
      resolve();
    }
  });
}
