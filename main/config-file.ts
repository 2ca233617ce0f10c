import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BoxError } from '../core/errors.js';
import { boxConfigSchema, type BoxConfig } from '../core/config.js';
import { describeProblems, problemsToText } from '../core/validation.js';

export const DEFAULT_CONFIG_PATH = '/etc/teaching-point-box/box.json';

export interface ConfigOverrides {
  dataDir?: string;
  port?: number;
  host?: string;
}

/**
 * Reads and validates the image-level config. Every wrong field is named with its value and what
 * was expected, and the box refuses to start rather than run half-configured.
 */
export function loadConfigFile(path: string, overrides: ConfigOverrides = {}): BoxConfig {
  if (!existsSync(path)) {
    throw new BoxError('E_CONFIG', `No config file at ${path}. Pass --config FILE or set BOX_CONFIG (see README).`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BoxError('E_CONFIG', `The config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseConfig(raw, path, overrides);
}

export function parseConfig(raw: unknown, source: string, overrides: ConfigOverrides = {}): BoxConfig {
  const merged = structuredClone(raw) as Record<string, unknown>;
  if (merged && typeof merged === 'object' && !Array.isArray(merged)) {
    if (overrides.dataDir) merged.dataDir = resolve(overrides.dataDir);
    if (overrides.port !== undefined || overrides.host !== undefined) {
      const listen = (typeof merged.listen === 'object' && merged.listen !== null ? merged.listen : {}) as Record<string, unknown>;
      merged.listen = { ...listen, ...(overrides.port !== undefined ? { port: overrides.port } : {}), ...(overrides.host ? { host: overrides.host } : {}) };
    }
  }
  const result = boxConfigSchema.safeParse(merged);
  if (!result.success) {
    const problems = describeProblems(result.error, merged);
    throw new BoxError('E_CONFIG', `The config in ${source} is not valid: ${problemsToText(problems)}`, { problems });
  }
  return result.data;
}
