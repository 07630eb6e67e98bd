/**
 * Makes a fastify plugin scope read every request body as raw bytes, whatever its
 * Content-Type: the inputs decide how to decode (and decompress) themselves. Registered inside
 * the input's own encapsulated plugin, so other routes keep fastify's JSON parsing.
 * fastify's `bodyLimit` (http.max_body_bytes) still applies to the bytes on the wire.
 *
 * An empty `Content-Type:` header counts as none: the influx 1.x CLI (`-import`) and Go
 * clients built on its library send one, and fastify would answer 415 before any parser ran.
 */
import type { FastifyInstance } from 'fastify';

export function acceptRawBodies(app: FastifyInstance): void {
  app.addHook('onRequest', (req, _reply, done) => {
    const type = req.headers['content-type'];
    if (type !== undefined && type.trim() === '') delete req.headers['content-type'];
    done();
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}
