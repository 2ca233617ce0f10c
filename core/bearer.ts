// The one place an `Authorization: Bearer` header is read or written (box tokens, media tokens, PIN sessions).

/** The token of an `Authorization: Bearer <token>` header, or undefined for anything else. */
export function bearer(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  return /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
}

export function bearerHeader(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
