/**
 * Token authentication for the HTTP inputs and API (`http.token`). Accepts both
 * `Authorization: Bearer <t>` and InfluxDB's `Authorization: Token <t>`, compared in constant
 * time. Health and metrics endpoints stay open so probes and scrapers keep working.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const OPEN_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const m = /^(?:Bearer|Token)\s+(.+)$/i.exec(header.trim());
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
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
