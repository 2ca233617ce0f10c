import { execFile } from 'node:child_process';
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface FfmpegProbe {
  found: boolean;
  path?: string;
  /** As ffmpeg prints it, e.g. "5.1.6-0+deb12u1". */
  version?: string;
  /** True only when a real encode ran to the end. */
  works: boolean;
  /** Plain words for `box doctor`; absent when everything is fine. */
  error?: string;
}

export interface ProbeFfmpegOptions {
  /** An explicit binary; otherwise `ffmpeg` is looked up on PATH. */
  ffmpegPath?: string;
  /** Per ffmpeg run. Generous by default: the first run on a cold ARM box is slow. */
  timeoutMs?: number;
}

export interface RunResult {
  /** Exit code; null when killed or never started. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the process could not be started at all (ENOENT, EACCES…). */
  spawnError?: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * Runs a binary without a shell and never rejects: callers turn the outcome into a health figure.
 * SIGKILL on timeout because a wedged ffmpeg (stuck device, full pipe) may ignore SIGTERM.
 */
export function runFile(file: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr, timedOut: false });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
        if (typeof e.code === 'string') {
          return resolve({ code: null, stdout, stderr, timedOut: false, spawnError: `${e.code}: ${e.message}` });
        }
        const timedOut = e.killed === true && e.code == null;
        resolve({ code: typeof e.code === 'number' ? e.code : null, stdout, stderr, timedOut });
      },
    );
  });
}

/** Why `file` cannot be run, or undefined when it is an executable regular file. */
async function notRunnable(file: string): Promise<string | undefined> {
  try {
    if (!(await stat(file)).isFile()) return 'not a file';
    await access(file, constants.X_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not executable' : String(code ?? err);
  }
}

/** PATH lookup the way a shell would do it, without spawning one. */
export async function findOnPath(name: string, pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if ((await notRunnable(candidate)) === undefined) return candidate;
  }
  return undefined;
}

/** The last few non-empty lines of ffmpeg's stderr: where it says what went wrong. */
function tail(text: string, lines = 3): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).slice(-lines).join(' | ');
}

function describeFailure(r: RunResult, timeoutMs: number): string {
  if (r.spawnError) return r.spawnError;
  if (r.timedOut) return `timed out after ${timeoutMs} ms`;
  return `exit code ${r.code ?? 'none'}${r.stderr.trim() ? `: ${tail(r.stderr)}` : ''}`;
}

/**
 * Finds ffmpeg, reads its version, and proves it can encode. "Not installed" is a normal answer
 * (found:false), not an exception: `box doctor` and /api/health report it and carry on.
 */
export async function probeFfmpeg(opts: ProbeFfmpegOptions = {}): Promise<FfmpegProbe> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let path: string | undefined;
  if (opts.ffmpegPath !== undefined) {
    const why = await notRunnable(opts.ffmpegPath);
    if (why) return { found: false, works: false, error: `ffmpeg not found at ${opts.ffmpegPath} (${why})` };
    path = opts.ffmpegPath;
  } else {
    path = await findOnPath('ffmpeg');
    if (!path) return { found: false, works: false, error: 'ffmpeg not found on PATH (install the ffmpeg package)' };
  }

  const v = await runFile(path, ['-hide_banner', '-version'], timeoutMs);
  if (v.code !== 0) {
    return { found: true, path, works: false, error: `ffmpeg -version failed: ${describeFailure(v, timeoutMs)}` };
  }
  const version = /^ffmpeg version (\S+)/m.exec(v.stdout)?.[1];

  // A real encode (mjpeg: built into every ffmpeg build, and what video posters use) of 0.2 s of
  // generated frames; -version alone succeeds even when shared libraries are missing or broken.
  const enc = await runFile(path, [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-f', 'lavfi', '-i', 'testsrc=duration=0.2:size=320x240:rate=25',
    '-c:v', 'mjpeg', '-f', 'null', '-',
  ], timeoutMs);
  const result: FfmpegProbe = { found: true, path, works: enc.code === 0 };
  if (version !== undefined) result.version = version;
  if (enc.code !== 0) result.error = `ffmpeg test encode failed: ${describeFailure(enc, timeoutMs)}`;
  return result;
}
