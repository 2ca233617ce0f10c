// The hardware room's box-to-box calls, a cross-room link main makes for it: a teaching point tells
// its hub where its PTZ cameras can be reached (POST /api/peer/hardware/announce), and the hub asks a
// teaching point to turn one (POST /api/peer/hardware/ptz). Both go through the peer client (fresh
// single-use token, timeout, answer size cap).
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { TokenIssuer } from '../../core/box-token.js';
import { BoxError, ErrorCodes, type ErrorCode } from '../../core/errors.js';
import { PeerClient, PeerHttpError } from '../../core/peer-client.js';
import type { CameraRole, PresetName, PtzResult } from '../../core/contract/hardware.js';
import type { HardwareServices } from '../../hardware/services.js';
import type { HubLink } from './hub-link.js';
import type { PeerRegistry } from '../security/peer-registry.js';

/** Both answers are a PtzResult, an empty 204 or an error body: a few hundred bytes. */
const MAX_ANSWER_BYTES = 16 * 1024;
const ANNOUNCE_TIMEOUT_MS = 5000;
/** A VISCA preset recall waits for the camera to finish moving. */
const PRESET_TIMEOUT_MS = 20_000;

interface HardwarePeerCalls {
  /** Teaching point: tells the hub where to reach this box for PTZ calls. */
  announceToHub(): Promise<void>;
  /** Hub: asks a teaching point to switch one of its cameras to a preset. */
  presetOnTeachingPoint(boxId: string, role: CameraRole, preset: PresetName): Promise<PtzResult>;
}

/** The hardware room as this box's routes use it: the room's services and its box-to-box calls. */
export interface BoxHardware extends Omit<HardwareServices, 'start'>, HardwarePeerCalls {
  /** Starts the room and, on a teaching point, announces `selfUrl` to the hub now and every minute. */
  start(selfUrl: string): void;
}

export interface HardwarePeerOptions {
  identity: TokenIssuer;
  clock: Clock;
  log: Logger;
  /** Teaching point: the client for its hub, and the link that knows whether it is enrolled yet. */
  hubPeer: PeerClient | undefined;
  hubLink: Pick<HubLink, 'enrolment'> | undefined;
  /** Hub: the teaching points enrolled with it. */
  peers: Pick<PeerRegistry, 'find'>;
  announceIntervalMs?: number;
}

/** Hub → teaching point: one preset; its errors come back with the point's name in front. */
async function presetOnTeachingPoint(hardware: HardwareServices, o: HardwarePeerOptions, boxId: string, role: CameraRole, preset: PresetName): Promise<PtzResult> {
  const peer = o.peers.find(boxId);
  if (!peer || peer.status !== 'active') throw new BoxError('E_NOT_FOUND', `No enrolled teaching point ${boxId}.`);
  const ep = hardware.endpoints().find((e) => e.boxId === boxId);
  if (!ep) throw new BoxError('E_HUB_UNREACHABLE', `${peer.name} has not told the hub its address yet; it does so within a minute of starting.`, { boxId });
  const point = new PeerClient({ baseUrl: ep.url, peerBoxId: boxId, identity: o.identity, clock: o.clock, timeoutMs: PRESET_TIMEOUT_MS, maxBytes: MAX_ANSWER_BYTES });
  try {
    return await point.json<PtzResult>('/api/peer/hardware/ptz', { json: { role, preset } });
  } catch (e) {
    if (e instanceof PeerHttpError) {
      const { code, message, details } = e.answer;
      const known: ErrorCode = code && code in ErrorCodes ? (code as ErrorCode) : 'E_HUB_UNREACHABLE';
      throw new BoxError(known, `${peer.name}: ${message ?? `answered ${e.status}`}`, details);
    }
    // E_HUB_UNREACHABLE is what the route answers by relaying over the lesson link (a point behind NAT).
    if (e instanceof BoxError && e.code === 'E_PEER_UNREACHABLE') {
      throw new BoxError('E_HUB_UNREACHABLE', `${peer.name} did not answer (${e.message.replace(/\.$/, '')}).`, { boxId });
    }
    throw e;
  }
}

/** Teaching point → hub: this box's address and the camera roles it can turn. */
async function announceToHub(hubPeer: PeerClient, selfUrl: string, ptzRoles: CameraRole[]): Promise<void> {
  const res = await hubPeer.request('/api/peer/hardware/announce', { json: { url: selfUrl, ptzRoles }, timeoutMs: ANNOUNCE_TIMEOUT_MS, maxBytes: MAX_ANSWER_BYTES });
  if (!res.ok) throw new Error(`hub answered ${res.status} to the hardware announcement`);
}

/** Adds the box-to-box calls to the hardware room; start and close cover the announcement timer too. */
export function withHardwarePeerCalls(hardware: HardwareServices, o: HardwarePeerOptions): BoxHardware {
  const log = o.log.child({ room: 'hardware', part: 'peer' });
  let selfUrl: string | null = null;
  let announceTimer: NodeJS.Timeout | undefined;

  const calls: HardwarePeerCalls = {
    async announceToHub() {
      // Before enrolment the hub does not know this box and would refuse it.
      if (!o.hubPeer || !o.hubLink || !selfUrl || !o.hubLink.enrolment()) return;
      await announceToHub(o.hubPeer, selfUrl, hardware.ptzRoles());
    },
    presetOnTeachingPoint: (boxId, role, preset) => presetOnTeachingPoint(hardware, o, boxId, role, preset),
  };

  return {
    // HardwareServices is a plain object of functions, so its members copy over as they are.
    ...hardware,
    ...calls,
    start(url) {
      selfUrl = url;
      hardware.start();
      if (!o.hubPeer) return;
      const announce = () => {
        calls.announceToHub().catch((e: unknown) => log.debug({ err: (e as Error).message }, 'hardware announcement to the hub failed'));
      };
      announce();
      announceTimer = setInterval(announce, o.announceIntervalMs ?? 60_000);
      announceTimer.unref();
    },
    close() {
      if (announceTimer) clearInterval(announceTimer);
      hardware.close();
    },
  };
}
