// Errors carry a stable code for programs and a message for people; the kiosk maps codes to words.
export const ErrorCodes = {
  E_VALIDATION: 400,
  E_BAD_JSON: 400,
  E_TOO_LARGE: 413,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_NOT_FOUND: 404,
  E_METHOD_NOT_ALLOWED: 405,
  E_UNAUTHORIZED: 401,
  E_PIN_WRONG: 401,
  E_PIN_LOCKED: 429,
  E_RATE_LIMITED: 429,
  E_FORBIDDEN: 403,
  /** The media token is valid but its scope does not cover this (view / classroom / console). */
  E_SCOPE: 403,
  /** A short-lived ticket that is unknown, used up, expired, or for another path. */
  E_TICKET: 401,
  /** A second WHIP into a room with a live publisher, without a console takeover. */
  E_ROOM_HAS_PUBLISHER: 409,
  /** A control connection sent too many messages or bytes (or opened too many connections). */
  E_CONTROL_QUOTA: 429,
  /** A lesson's stored control timeline reached its cap: only lesson start/end is still taken. */
  E_TIMELINE_FULL: 507,
  E_CONFLICT: 409,
  E_NOT_PROVISIONED: 409,
  E_WRONG_ROLE: 404,
  E_ENROL_CODE: 403,
  E_CONFIG: 500,
  E_BUNDLE_MALFORMED: 400,
  E_BUNDLE_UNSIGNED: 400,
  E_BUNDLE_TAMPERED: 400,
  E_BUNDLE_WRONG_KEY: 400,
  E_BUNDLE_EXPIRED: 400,
  E_BUNDLE_ROLLBACK: 400,
  E_HUB_UNREACHABLE: 502,
  E_HUB_KEY_MISMATCH: 502,
  E_PEER_UNREACHABLE: 502,
  E_PEER_ANSWER_TOO_LARGE: 502,
  E_PEER_ANSWER_MALFORMED: 502,
  E_MANIFEST_MALFORMED: 400,
  E_MANIFEST_UNSIGNED: 400,
  E_MANIFEST_TAMPERED: 400,
  E_MANIFEST_WRONG_KEY: 400,
  E_MANIFEST_EXPIRED: 400,
  E_MANIFEST_ROLLBACK: 409,
  E_CATALOG_SOURCE: 502,
  E_ITEM_CORRUPT: 422,
  E_DISK_FULL: 507,
  E_BUNDLE_ITEM: 422,
  /** A link, device, FIFO or socket inside an item from outside: only plain files and folders are accepted. */
  E_ITEM_NOT_PLAIN: 422,
  /** A new settings PIN shorter than 6 digits (PINs already provisioned keep working). */
  E_PIN_TOO_SHORT: 400,
  /** A control character (NUL included) in a request's path or query. */
  E_CONTROL_CHARACTERS: 400,
  E_PTZ_NOT_CONFIGURED: 409,
  E_PTZ_UNREACHABLE: 504,
  E_PTZ_REFUSED: 502,
  E_SDP_MALFORMED: 400,
  E_MEDIA_UNAVAILABLE: 503,
  E_INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class BoxError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'BoxError';
    this.code = code;
    this.status = ErrorCodes[code];
    this.details = details;
  }
}

export function isBoxError(e: unknown): e is BoxError {
  return e instanceof BoxError;
}
