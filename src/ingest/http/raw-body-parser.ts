/**
 * Makes a fastify plugin scope read every request body as raw bytes, whatever its
 * Content-Type: the inputs decide how to decode (and decompress) themselves. Registered inside
 * the input's own encapsulated plugin, so other routes keep fastify's JSON parsing.
 * fastify's `bodyLimit` (http.max_body_bytes) still applies to the bytes on the wire.
 */
import type { FastifyInstance } from 'fastify';

export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}
