// ONVIF PTZ through the `onvif` npm client (SOAP, WS-Security, digest auth are its job, not ours).
import onvif from 'onvif';
import { BoxError } from '../core/errors.js';

export interface OnvifOptions {
  host: string;
  port?: number;
  username?: string;
  password?: string;
  /** A media profile carrying a PTZ configuration; the camera's first profile when absent. */
  profileToken?: string;
  timeoutMs?: number;
}

type Cam = InstanceType<typeof onvif.Cam>;

/** SOAP fault subcodes (ONVIF Core §5.11.2) in plain words. */
const faultWords: Array<[RegExp, string]> = [
  [/NoEntity|NoToken|NoProfile/i, 'the camera has no such preset or profile (set the preset on the camera first)'],
  [/NotAuthorized|Sender not Authorized|Digest authentication failed/i, 'the camera refused the user name or password'],
  [/NoPTZProfile|PTZNotSupported|ActionNotSupported/i, 'this camera cannot pan, tilt or zoom over ONVIF'],
  [/TooManyPresets/i, 'the camera has no free preset slot'],
  [/MovingPTZ/i, 'the camera is still moving; try again in a moment'],
];

function explain(host: string, e: unknown): BoxError {
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ECONNRESET' || /timeout/i.test(msg)) {
    return new BoxError('E_PTZ_UNREACHABLE', `PTZ camera ${host}: the camera did not answer; check its network cable, power and address.`, { reason: code ?? 'timeout', host });
  }
  const words = faultWords.find(([re]) => re.test(msg))?.[1] ?? 'the camera refused the command';
  return new BoxError('E_PTZ_REFUSED', `PTZ camera ${host}: ${words}.`, { reason: 'fault', fault: msg.slice(0, 300), host });
}

export class OnvifPtzClient {
  private cam: Cam | undefined;
  private connecting: Promise<Cam> | undefined;
  private profileToken: string | undefined;

  constructor(private readonly o: OnvifOptions) {
    this.profileToken = o.profileToken;
  }

  private call<T>(fn: (cam: Cam, cb: (err: Error | null, data?: unknown) => void) => void): Promise<T> {
    return this.connect().then((cam) => new Promise<T>((resolve, reject) => {
      fn(cam, (err, data) => (err ? reject(explain(this.o.host, err)) : resolve(data as T)));
    }));
  }

  /** GetSystemDateAndTime, GetServices/GetCapabilities, GetProfiles, GetVideoSources (the client's connect). */
  connect(): Promise<Cam> {
    if (this.cam) return Promise.resolve(this.cam);
    this.connecting ??= new Promise<Cam>((resolve, reject) => {
      const cam = new onvif.Cam({
        hostname: this.o.host, port: this.o.port ?? 80, username: this.o.username, password: this.o.password,
        timeout: this.o.timeoutMs ?? 5000, autoconnect: false,
      });
      cam.connect((err) => {
        if (err) return reject(explain(this.o.host, err));
        const token = this.profileToken ?? cam.activeSource?.profileToken;
        if (!token) return reject(new BoxError('E_PTZ_REFUSED', `PTZ camera ${this.o.host}: the camera offers no media profile to steer.`, { reason: 'no-profile' }));
        this.profileToken = token;
        this.cam = cam;
        resolve(cam);
      });
    }).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Preset name → token, as the camera lists them. */
  async presets(): Promise<Record<string, string>> {
    const list = await this.call<Record<string, { $?: { token?: string } }>>((cam, cb) => cam.getPresets({ profileToken: this.profileToken }, cb));
    const out: Record<string, string> = {};
    for (const [name, p] of Object.entries(list ?? {})) if (p.$?.token !== undefined) out[name] = String(p.$.token);
    return out;
  }

  async gotoPreset(token: string): Promise<void> {
    await this.call((cam, cb) => cam.gotoPreset({ profileToken: this.profileToken, preset: token }, cb));
  }

  /** Stores the current position; returns the token the camera gave the preset. */
  async setPreset(name: string, token?: string): Promise<string> {
    const data = await this.call<Array<{ setPresetResponse?: Array<{ presetToken?: string[] }> }>>((cam, cb) =>
      cam.setPreset({ profileToken: this.profileToken, presetName: name, ...(token ? { presetToken: token } : {}) }, cb));
    return String(data?.[0]?.setPresetResponse?.[0]?.presetToken?.[0] ?? token ?? '');
  }

  /** Velocities in -1…1; the camera stops by itself after `timeoutMs` if a stop is lost. */
  async continuousMove(v: { x?: number; y?: number; zoom?: number }, timeoutMs = 2000): Promise<void> {
    await this.call((cam, cb) => cam.continuousMove({ profileToken: this.profileToken, x: v.x ?? 0, y: v.y ?? 0, zoom: v.zoom ?? 0, timeout: timeoutMs }, cb));
  }

  async stop(): Promise<void> {
    await this.call((cam, cb) => cam.stop({ profileToken: this.profileToken, panTilt: true, zoom: true }, cb));
  }

  close(): void {
    this.cam = undefined;
  }
}
