// A hand-written fake of the ElectronApi seam (main/electron/electron-api.ts): records what the
// kiosk shell asks of Electron and lets tests play Electron's side (navigations, permission prompts,
// crashes, IPC). The Electron binary cannot exist on test machines; this is the only stand-in.
import type {
  BrowserWindowApi,
  BrowserWindowConstructor,
  BrowserWindowOptions,
  ElectronApi,
  HeadersReceivedDetails,
  HeadersReceivedResponse,
  IpcMainEvent,
  PermissionCheckDetails,
  PermissionRequestDetails,
  SessionApi,
  WebContentsApi,
  WindowOpenResponse,
} from '../../main/electron/electron-api.js';

type Listener = (...args: never[]) => void;

class Emitter {
  private readonly listeners = new Map<string, Listener[]>();
  on(event: string, listener: Listener): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  emit(event: string, ...args: unknown[]): void {
    for (const l of this.listeners.get(event) ?? []) (l as (...a: unknown[]) => void)(...args);
  }
  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }
  removeAllListeners(event: string): void {
    this.listeners.delete(event);
  }
}

class FakeEvent {
  defaultPrevented = false;
  constructor(readonly url?: string) {}
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

class FakeWebContents extends Emitter implements WebContentsApi {
  url = '';
  reloads = 0;
  windowOpenHandler: ((details: { url: string }) => WindowOpenResponse) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => WindowOpenResponse): void {
    this.windowOpenHandler = handler;
  }
  getURL(): string {
    return this.url;
  }
  reload(): void {
    this.reloads += 1;
  }
  /** Plays a navigation; returns true when the shell let it happen. */
  navigate(kind: 'will-navigate' | 'will-redirect', url: string): boolean {
    const event = new FakeEvent(url);
    this.emit(kind, event, url);
    return !event.defaultPrevented;
  }
}

export class FakeBrowserWindow extends Emitter implements BrowserWindowApi {
  readonly webContents = new FakeWebContents();
  loadedUrls: string[] = [];
  /** loadURL rejects this many times (like ERR_CONNECTION_REFUSED while the daemon starts). */
  loadFailures = 0;
  minimized = false;
  destroyed = false;
  focusCalls = 0;
  restoreCalls = 0;
  constructor(readonly options: BrowserWindowOptions) {
    super();
  }
  async loadURL(url: string): Promise<void> {
    this.loadedUrls.push(url);
    if (this.loadFailures > 0) {
      this.loadFailures -= 1;
      throw Object.assign(new Error('net::ERR_CONNECTION_REFUSED'), { code: 'ERR_CONNECTION_REFUSED' });
    }
    this.webContents.url = url;
  }
  show(): void {}
  focus(): void {
    this.focusCalls += 1;
  }
  restore(): void {
    this.restoreCalls += 1;
    this.minimized = false;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

type RequestHandler = Parameters<SessionApi['setPermissionRequestHandler']>[0];
type CheckHandler = Parameters<SessionApi['setPermissionCheckHandler']>[0];
type HeadersListener = Parameters<SessionApi['webRequest']['onHeadersReceived']>[0];

class FakeSession implements SessionApi {
  requestHandler: RequestHandler | null = null;
  checkHandler: CheckHandler | null = null;
  headersListener: HeadersListener | null = null;
  readonly webRequest = {
    onHeadersReceived: (listener: HeadersListener): void => {
      this.headersListener = listener;
    },
  };
  setPermissionRequestHandler(handler: RequestHandler): void {
    this.requestHandler = handler;
  }
  setPermissionCheckHandler(handler: CheckHandler): void {
    this.checkHandler = handler;
  }
  /** Plays a page asking for a permission (getUserMedia, Notification.requestPermission, …). */
  request(permission: string, details: PermissionRequestDetails, contents: WebContentsApi | null = null): Promise<boolean> {
    if (!this.requestHandler) throw new Error('no permission request handler installed');
    const handler = this.requestHandler;
    return new Promise((resolve) => handler(contents, permission, resolve, details));
  }
  check(permission: string, requestingOrigin: string, details: PermissionCheckDetails = {}): boolean {
    if (!this.checkHandler) throw new Error('no permission check handler installed');
    return this.checkHandler(null, permission, requestingOrigin, details);
  }
  /** Plays a response arriving; returns what the shell answered. */
  receive(details: HeadersReceivedDetails): HeadersReceivedResponse {
    if (!this.headersListener) throw new Error('no onHeadersReceived listener installed');
    let answer: HeadersReceivedResponse | undefined;
    this.headersListener(details, (r) => {
      answer = r;
    });
    if (!answer) throw new Error('onHeadersReceived callback was not called');
    return answer;
  }
}

export class FakeElectron implements ElectronApi {
  lockGranted = true;
  quitCalls = 0;
  /** New windows' loadURL rejects this many times. */
  loadFailures = 0;
  readonly windows: FakeBrowserWindow[] = [];
  readonly blockerStarts: string[] = [];
  readonly blockerStops: number[] = [];
  private readonly activeBlockers = new Set<number>();
  private nextBlockerId = 1;
  private readonly appEvents = new Emitter();
  private readonly ipc = new Emitter();
  readonly defaultSession = new FakeSession();

  readonly app = {
    requestSingleInstanceLock: (): boolean => this.lockGranted,
    on: (event: string, listener: Listener): void => this.appEvents.on(event, listener),
    whenReady: async (): Promise<void> => {},
    quit: (): void => {
      this.quitCalls += 1;
    },
    getPath: (_name: 'userData'): string => '/tmp/fake-electron-user-data',
  };
  readonly session = { defaultSession: this.defaultSession };
  readonly powerSaveBlocker = {
    start: (type: 'prevent-display-sleep' | 'prevent-app-suspension'): number => {
      const id = this.nextBlockerId++;
      this.blockerStarts.push(type);
      this.activeBlockers.add(id);
      return id;
    },
    stop: (id: number): void => {
      this.blockerStops.push(id);
      this.activeBlockers.delete(id);
    },
    isStarted: (id: number): boolean => this.activeBlockers.has(id),
  };
  readonly ipcMain = {
    on: (channel: string, listener: (event: IpcMainEvent, ...args: unknown[]) => void): void =>
      this.ipc.on(channel, listener as Listener),
    removeAllListeners: (channel: string): void => this.ipc.removeAllListeners(channel),
  };
  readonly BrowserWindow: BrowserWindowConstructor;

  constructor() {
    const windows = this.windows;
    const appEvents = this.appEvents;
    const failures = (): number => this.loadFailures;
    // Like Electron: every new webContents is announced on app 'web-contents-created'.
    this.BrowserWindow = class extends FakeBrowserWindow {
      constructor(options: BrowserWindowOptions) {
        super(options);
        this.loadFailures = failures();
        windows.push(this);
        appEvents.emit('web-contents-created', new FakeEvent(), this.webContents);
      }
    };
  }

  get activeBlockerCount(): number {
    return this.activeBlockers.size;
  }
  get window(): FakeBrowserWindow {
    const w = this.windows[0];
    if (!w) throw new Error('no window was created');
    return w;
  }
  emitApp(event: string, ...args: unknown[]): void {
    this.appEvents.emit(event, ...args);
  }
  /** Plays a renderer frame at `senderUrl` sending an IPC message. */
  sendIpc(channel: string, senderUrl: string, ...args: unknown[]): void {
    this.ipc.emit(channel, { senderFrame: { url: senderUrl } } satisfies IpcMainEvent, ...args);
  }
  ipcListenerCount(channel: string): number {
    return this.ipc.listenerCount(channel);
  }
}
