// THE seam between the kiosk shell and Electron. The shell touches Electron only through
// `ElectronApi`; tests pass a hand-written fake (test/support/fake-electron.ts) because the Electron
// binary cannot exist on build/test machines. Only the calls the shell makes are declared here, with
// shapes that the real `electron` module satisfies (main.ts casts the runtime module to it).

/** The one IPC channel the preload uses: renderer → main, payload a boolean. */
export const LESSON_RUNNING_CHANNEL = 'box-shell:lesson-running';

export interface ElectronEvent {
  preventDefault(): void;
  /** Electron ≥ 25 puts the target URL on navigation events; older ones pass it as 2nd arg. */
  readonly url?: string;
}

interface RenderProcessGoneDetails {
  reason: string;
  exitCode: number;
}

export type WindowOpenResponse = { action: 'deny' } | { action: 'allow' };

export interface WebContentsApi {
  on(event: 'will-navigate' | 'will-redirect', listener: (event: ElectronEvent, url: string) => void): void;
  on(event: 'will-attach-webview', listener: (event: ElectronEvent) => void): void;
  on(event: 'render-process-gone', listener: (event: ElectronEvent, details: RenderProcessGoneDetails) => void): void;
  setWindowOpenHandler(handler: (details: { url: string }) => WindowOpenResponse): void;
  getURL(): string;
  reload(): void;
}

/** The Electron security checklist, spelled out so a test can read it back. */
interface WebPreferences {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  navigateOnDragDrop: false;
  spellcheck: false;
}

export interface BrowserWindowOptions {
  fullscreen: boolean;
  kiosk: boolean;
  autoHideMenuBar: boolean;
  backgroundColor: string;
  show: boolean;
  webPreferences: WebPreferences;
}

export interface BrowserWindowApi {
  readonly webContents: WebContentsApi;
  loadURL(url: string): Promise<void>;
  on(event: 'closed' | 'ready-to-show', listener: () => void): void;
  show(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
  isDestroyed(): boolean;
  destroy(): void;
}

export type BrowserWindowConstructor = new (options: BrowserWindowOptions) => BrowserWindowApi;

export interface PermissionRequestDetails {
  requestingUrl?: string;
  securityOrigin?: string;
  mediaTypes?: string[];
  isMainFrame?: boolean;
}

export interface PermissionCheckDetails {
  requestingUrl?: string;
  securityOrigin?: string;
  mediaType?: string;
  isMainFrame?: boolean;
}

export interface HeadersReceivedDetails {
  url: string;
  resourceType?: string;
  responseHeaders?: Record<string, string[]>;
}

export interface HeadersReceivedResponse {
  cancel?: boolean;
  responseHeaders?: Record<string, string[]>;
}

export interface SessionApi {
  setPermissionRequestHandler(
    handler: (
      webContents: WebContentsApi | null,
      permission: string,
      callback: (granted: boolean) => void,
      details: PermissionRequestDetails,
    ) => void,
  ): void;
  setPermissionCheckHandler(
    handler: (
      webContents: WebContentsApi | null,
      permission: string,
      requestingOrigin: string,
      details: PermissionCheckDetails,
    ) => boolean,
  ): void;
  readonly webRequest: {
    onHeadersReceived(
      listener: (details: HeadersReceivedDetails, callback: (response: HeadersReceivedResponse) => void) => void,
    ): void;
  };
}

export interface IpcMainEvent {
  /** The frame that sent the message; null once it navigated away or was destroyed. */
  readonly senderFrame?: { readonly url: string } | null;
}

export interface ElectronApi {
  readonly app: {
    requestSingleInstanceLock(): boolean;
    on(event: 'second-instance' | 'window-all-closed', listener: () => void): void;
    on(event: 'web-contents-created', listener: (event: ElectronEvent, contents: WebContentsApi) => void): void;
    whenReady(): Promise<void>;
    quit(): void;
    getPath(name: 'userData'): string;
  };
  readonly BrowserWindow: BrowserWindowConstructor;
  readonly session: { readonly defaultSession: SessionApi };
  readonly powerSaveBlocker: {
    start(type: 'prevent-display-sleep' | 'prevent-app-suspension'): number;
    stop(id: number): void;
    isStarted(id: number): boolean;
  };
  readonly ipcMain: {
    on(channel: string, listener: (event: IpcMainEvent, ...args: unknown[]) => void): void;
    removeAllListeners(channel: string): void;
  };
}
