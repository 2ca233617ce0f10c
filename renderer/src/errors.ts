// API error codes → plain words for the teacher. Never a stack trace or an HTTP status.
import { ApiError } from './api/http.js';
import { hasMessage, t } from './i18n.js';

export function errorWords(e: unknown): string {
  if (!(e instanceof ApiError)) return t('error.unknown');
  const id = `error.${e.code}`;
  if (!hasMessage(id)) return t('error.unknown');
  const vars: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(e.details)) if (typeof v === 'string' || typeof v === 'number') vars[k] = v;
  return t(id, vars);
}
