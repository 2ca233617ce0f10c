import type { z } from 'zod';
import { BoxError, type ErrorCode } from './errors.js';

/** One problem in an input: which field, what it held, what was expected. */
export interface FieldProblem {
  field: string;
  value: unknown;
  expected: string;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function preview(value: unknown): string {
  if (value === undefined) return '(missing)';
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch {
    return '(too deeply nested to show)'; // JSON.stringify throws RangeError on very deep input
  }
  if (s === undefined) return String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The offending value is echoed back only when it is small; large or deep input is summarised. */
function echoable(value: unknown): unknown {
  if (value === undefined || value === null || typeof value === 'boolean' || typeof value === 'number') return value;
  const p = preview(value);
  return typeof value === 'string' && p.length <= 80 ? value : p;
}

export function describeProblems(error: z.ZodError, input: unknown): FieldProblem[] {
  return error.issues.slice(0, 20).map((issue) => ({
    field: issue.path.length ? issue.path.map(String).join('.').slice(0, 200) : '(root)',
    value: echoable(valueAt(input, issue.path)),
    expected: issue.message,
  }));
}

export function problemsToText(problems: FieldProblem[]): string {
  return problems.map((p) => `${p.field}: got ${preview(p.value)}, expected ${p.expected}`).join('; ');
}

/** Parses input with a schema or throws a BoxError naming every wrong field. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  code: ErrorCode = 'E_VALIDATION',
): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = describeProblems(result.error, input);
  throw new BoxError(code, `${what} is not valid: ${problemsToText(problems)}`, { problems });
}
