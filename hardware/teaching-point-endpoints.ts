// The hub's record of where each teaching point said its PTZ cameras can be reached (box_state rows
// "hardware.endpoint.<boxId>"), so the hub console can turn them.
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/store/database.js';
import { KvStore } from '../core/store/kv-store.js';
import type { CameraRole } from '../core/contract/hardware.js';

const ENDPOINT_PREFIX = 'hardware.endpoint.';

export interface TeachingPointEndpoint {
  boxId: string;
  url: string;
  ptzRoles: CameraRole[];
  at: number;
}

export class TeachingPointEndpoints {
  private readonly state: KvStore;

  constructor(db: Db, private readonly clock: Clock) {
    this.state = new KvStore(db, clock, 'box_state');
  }

  record(boxId: string, url: string, ptzRoles: CameraRole[]): void {
    this.state.set(`${ENDPOINT_PREFIX}${boxId}`, { boxId, url, ptzRoles, at: this.clock.now() } satisfies TeachingPointEndpoint);
  }

  list(): TeachingPointEndpoint[] {
    return Object.entries(this.state.all())
      .filter(([k]) => k.startsWith(ENDPOINT_PREFIX))
      .map(([, v]) => v as TeachingPointEndpoint);
  }
}
