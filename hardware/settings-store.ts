// The technician's hardware settings (device roles, PTZ cameras) in the box's settings table; every
// change is written in one transaction with its audit row.
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/store/database.js';
import type { AuditStore } from '../core/store/audit-store.js';
import { KvStore } from '../core/store/kv-store.js';
import { BoxError } from '../core/errors.js';
import { parseOrThrow } from '../core/validation.js';
import {
  cameraRoles, emptyAssignment,
  type CameraRole, type DeviceAssignment, type PresetName, type PtzSettings,
} from '../core/contract/hardware.js';
import { assignmentSchema, ptzSettingsSchema } from './request-schemas.js';

const SETTINGS_KEY = 'hardware';

interface Stored {
  assignment: DeviceAssignment;
  ptz: PtzSettings;
}

/** PTZ settings with passwords replaced by "***" (for showing). */
function maskPasswords(ptz: PtzSettings): PtzSettings {
  const out: PtzSettings = {};
  for (const role of cameraRoles) {
    const c = ptz[role];
    if (c) out[role] = { ...c, ...(c.password ? { password: '***' } : {}) };
  }
  return out;
}

export class HardwareSettingsStore {
  private readonly kv: KvStore;

  constructor(private readonly db: Db, clock: Clock, private readonly audit: Pick<AuditStore, 'append'>) {
    this.kv = new KvStore(db, clock, 'settings');
  }

  private stored(): Stored {
    return { assignment: emptyAssignment, ptz: {}, ...(this.kv.get<Stored>(SETTINGS_KEY) ?? {}) };
  }

  private save(next: Stored, actor: string, action: string, details: Record<string, unknown>): void {
    this.db.transaction(() => {
      this.kv.set(SETTINGS_KEY, next);
      this.audit.append({ actor, action, outcome: 'ok', details });
    })();
  }

  assignment(): DeviceAssignment {
    return this.stored().assignment;
  }

  setAssignment(input: unknown, actor: string): DeviceAssignment {
    const a = parseOrThrow(assignmentSchema, input, 'The device assignment');
    const assignment: DeviceAssignment = { cameras: a.cameras, microphone: a.microphone };
    this.save({ ...this.stored(), assignment }, actor, 'hardware.assignment.update', { assignment });
    return assignment;
  }

  /** With passwords: for the cameras, never for showing. */
  ptz(): PtzSettings {
    return this.stored().ptz;
  }

  ptzMasked(): PtzSettings {
    return maskPasswords(this.stored().ptz);
  }

  setPtz(input: unknown, actor: string): PtzSettings {
    const p = parseOrThrow(ptzSettingsSchema, input, 'The PTZ camera settings');
    const cur = this.stored();
    const ptzNext: PtzSettings = { ...cur.ptz };
    for (const role of cameraRoles) {
      const v = p[role];
      if (v === undefined) continue;
      if (v === null) {
        delete ptzNext[role];
        continue;
      }
      // "***" is what GET shows: sending it back keeps the stored password — but only for the same camera:
      // a PIN holder must not send the stored password to a host of their choosing (e.g. their own laptop).
      const was = cur.ptz[role];
      if (v.password === '***' && was?.password && (was.host !== v.host || was.port !== v.port || was.protocol !== v.protocol)) {
        throw new BoxError('E_VALIDATION', `The ${role} camera's address changed: enter its password again.`, { field: `${role}.password`, reason: 'password-for-new-address' });
      }
      const password = v.password === '***' ? was?.password : v.password;
      ptzNext[role] = { ...v, ...(password ? { password } : {}) };
      if (!password) delete ptzNext[role]!.password;
    }
    this.save({ ...cur, ptz: ptzNext }, actor, 'hardware.ptz.update', { ptz: maskPasswords(ptzNext) });
    return maskPasswords(ptzNext);
  }

  /** Saves the slot a camera just stored a preset in; masked settings back. */
  savePresetSlot(role: CameraRole, preset: PresetName, slot: number | string, actor: string): PtzSettings {
    // Re-read: the camera took a while, and the technician may have removed it meanwhile.
    const latest = this.stored();
    const c = latest.ptz[role];
    if (!c) throw new BoxError('E_CONFLICT', 'The PTZ settings changed while the preset was being stored; try again.');
    const next: Stored = { ...latest, ptz: { ...latest.ptz, [role]: { ...c, presets: { ...c.presets, [preset]: slot } } } };
    this.save(next, actor, 'hardware.ptz.preset.store', { role, preset, slot });
    return maskPasswords(next.ptz);
  }
}
