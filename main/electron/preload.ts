// The kiosk window's preload. Sandboxed preloads are run as plain CommonJS-style scripts with a
// restricted `require` (electron, events, timers, url), but this package is ESM, so tsc would emit
// `export {}` into a preload.js and break it. Instead `installBoxShell` is kept self-contained and
// main.ts writes `preloadScript()` to a .cjs file at start-up. The electron types are declared
// locally: the electron package is not installed on build/test machines.
import { LESSON_RUNNING_CHANNEL } from './electron-api.js';

/** What the page sees as `window.boxShell`; deliberately tiny. */
export interface BoxShellApi {
  readonly platform: 'electron';
  /** Tell the shell a lesson started/stopped, so it keeps the display awake only meanwhile. */
  setLessonRunning(running: boolean): void;
}

interface PreloadElectron {
  contextBridge: { exposeInMainWorld(apiKey: string, api: unknown): void };
  ipcRenderer: { send(channel: string, ...args: unknown[]): void };
}

/**
 * Runs inside the sandboxed preload. It is serialised with toString(), so it must not reference
 * anything outside its own body (no imports, no module-level names).
 */
export function installBoxShell(requireFn: (id: string) => unknown, channel: string): void {
  const { contextBridge, ipcRenderer } = requireFn('electron') as PreloadElectron;
  const api: BoxShellApi = {
    platform: 'electron',
    setLessonRunning(running: boolean): void {
      if (typeof running !== 'boolean') throw new TypeError('setLessonRunning expects a boolean');
      ipcRenderer.send(channel, running);
    },
  };
  // Only this object crosses the context bridge: no ipcRenderer, no require for the page.
  contextBridge.exposeInMainWorld('boxShell', Object.freeze(api));
}

/** The preload script's source text (CommonJS, for a `.cjs` file). */
export function preloadScript(): string {
  return `'use strict';\n(${installBoxShell.toString()})(require, ${JSON.stringify(LESSON_RUNNING_CHANNEL)});\n`;
}
