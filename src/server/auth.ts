/**
 * Token authentication for the HTTP inputs and API (`http.token`). Accepts both
 * `Authorization: Bearer <t>` and InfluxDB's `Authorization: Token <t>`, compared in constant
 * time. Health and metrics endpoints stay open so probes and scrapers keep working.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const OPEN_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const m = /^(?:Bearer|Token)\s+(.+)$/i.exec(header.trim());
  if (!m) return false;
  // Digests of equal length are compared, so neither the comparison nor an early length check
  // tells a caller how long the token is.
  return timingSafeEqual(sha256(m[1]!), sha256(token));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function tokenHook(token: string) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? '';
    if (OPEN_PATHS.has(path)) return;
    if (!tokenMatches(req.headers.authorization, token)) {
      reply.code(401).header('www-authenticate', 'Bearer realm="fleetline"').send({
        error: 'unauthorized',
        message: 'missing or wrong token (Authorization: Bearer <token>)',
      });
    }
  };
}
