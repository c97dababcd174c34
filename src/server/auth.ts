/**
 * The optional token: with one configured, every request must carry it as
 * Chroma's clients send it, `x-chroma-token: <token>` or
 * `Authorization: Bearer <token>` (or, for browsers opening the page, HTTP
 * Basic with the token as password). Compared in constant time: both sides
 * are hashed to SHA-256 first, so neither the length nor a prefix leaks.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The token a request presents, if any. */
export function presentedToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const x = headers['x-chroma-token'];
  if (typeof x === 'string') return x;
  const auth = headers.authorization;
  if (typeof auth !== 'string') return undefined;
  const [scheme, value = ''] = auth.split(/\s+/, 2);
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

/** A checker for one expected token. */
export function tokenChecker(expected: string): (presented: string | undefined) => boolean {
  const want = digest(expected);
  return (presented) => presented !== undefined && timingSafeEqual(digest(presented), want);
}
