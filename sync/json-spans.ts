// A structure-only scanner over JSON bytes: finds where values start and end without building them,
// so a 100,000-item manifest is read one item at a time instead of as one huge object graph.
// It checks only what it needs (nesting, strings); every span it yields is parsed with JSON.parse,
// which does the full syntax check.

const QUOTE = 0x22, BACKSLASH = 0x5c, LBRACE = 0x7b, RBRACE = 0x7d, LBRACKET = 0x5b, RBRACKET = 0x5d, COMMA = 0x2c, COLON = 0x3a;

export class JsonSpanError extends Error {}

const isWs = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

export function skipWs(buf: Uint8Array, i: number): number {
  while (i < buf.length && isWs(buf[i])) i++;
  return i;
}

function endOfString(buf: Uint8Array, i: number): number {
  // i is at the opening quote; returns the index just after the closing quote.
  for (let j = i + 1; j < buf.length; j++) {
    const b = buf[j];
    if (b === BACKSLASH) j++;
    else if (b === QUOTE) return j + 1;
  }
  throw new JsonSpanError(`an unterminated string starting at byte ${i}`);
}

/** Index just after the JSON value starting at `i` (which must not be whitespace). */
function endOfValue(buf: Uint8Array, i: number): number {
  const first = buf[i];
  if (first === undefined) throw new JsonSpanError('the document ends where a value was expected');
  if (first === QUOTE) return endOfString(buf, i);
  if (first === LBRACE || first === LBRACKET) {
    let depth = 0;
    for (let j = i; j < buf.length; j++) {
      const b = buf[j];
      if (b === QUOTE) j = endOfString(buf, j) - 1;
      else if (b === LBRACE || b === LBRACKET) depth++;
      else if (b === RBRACE || b === RBRACKET) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    throw new JsonSpanError(`an unterminated object or array starting at byte ${i}`);
  }
  let j = i;
  while (j < buf.length && !isWs(buf[j]) && buf[j] !== COMMA && buf[j] !== RBRACE && buf[j] !== RBRACKET) j++;
  if (j === i) throw new JsonSpanError(`an unexpected character at byte ${i}`);
  return j;
}

export interface MemberSpan {
  key: string;
  start: number;
  end: number;
}

/** The members of the object at `i`: each key (decoded) and its value's byte span. Returns the index after `}`. */
export function objectMembers(buf: Uint8Array, i: number, onMember: (m: MemberSpan) => void): number {
  if (buf[i] !== LBRACE) throw new JsonSpanError(`an object expected at byte ${i}`);
  let j = skipWs(buf, i + 1);
  if (buf[j] === RBRACE) return j + 1;
  for (;;) {
    if (buf[j] !== QUOTE) throw new JsonSpanError(`a key expected at byte ${j}`);
    const keyEnd = endOfString(buf, j);
    const key = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + j, keyEnd - j).toString('utf8')) as string;
    j = skipWs(buf, keyEnd);
    if (buf[j] !== COLON) throw new JsonSpanError(`":" expected at byte ${j}`);
    const start = skipWs(buf, j + 1);
    const end = endOfValue(buf, start);
    onMember({ key, start, end });
    j = skipWs(buf, end);
    if (buf[j] === COMMA) { j = skipWs(buf, j + 1); continue; }
    if (buf[j] === RBRACE) return j + 1;
    throw new JsonSpanError(`"," or "}" expected at byte ${j}`);
  }
}

/** Byte spans (start, end pairs) of the elements of the array at `i`. */
export function arrayElements(buf: Uint8Array, i: number, maxElements: number): Uint32Array {
  if (buf[i] !== LBRACKET) throw new JsonSpanError(`an array expected at byte ${i}`);
  let spans = new Uint32Array(1024);
  let n = 0;
  let j = skipWs(buf, i + 1);
  if (buf[j] === RBRACKET) return spans.subarray(0, 0);
  for (;;) {
    const end = endOfValue(buf, j);
    if (n * 2 + 2 > spans.length) {
      if (n >= maxElements) throw new JsonSpanError(`more than ${maxElements} elements`);
      const grown = new Uint32Array(spans.length * 2);
      grown.set(spans);
      spans = grown;
    }
    spans[n * 2] = j;
    spans[n * 2 + 1] = end;
    n++;
    j = skipWs(buf, end);
    if (buf[j] === COMMA) { j = skipWs(buf, j + 1); continue; }
    if (buf[j] === RBRACKET) return spans.subarray(0, n * 2);
    throw new JsonSpanError(`"," or "]" expected at byte ${j}`);
  }
}
