/** `forward:` the Fluentd Forward protocol listener (TCP/TLS + UDP heartbeat). */
import { Type } from '@sinclair/typebox';
import { DEFAULT_MAX_ENTRIES_PER_REQUEST } from '../../core/limits.ts';
import { Bind, Duration, Port, Section } from './common.ts';

export const ForwardSection = Section(
  {
    enabled: Type.Boolean({ default: true, description: 'listen for Forward connections' }),
    bind: Bind('address to listen on (loopback by default)'),
    port: Port(24224, 'TCP port; the UDP heartbeat listens on the same number'),
    shared_key: Type.Optional(
      Type.String({ minLength: 1, description: 'enables the shared-key handshake' }),
    ),
    self_hostname: Type.String({
      minLength: 1,
      default: 'fleetline',
      description: 'hostname fleetline announces in HELO/PONG',
    }),
    users: Type.Array(
      Type.Object(
        { username: Type.String({ minLength: 1 }), password: Type.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
      { default: [], description: 'optional user authentication in the handshake' },
    ),
    tls: Type.Optional(
      Type.Object(
        {
          cert: Type.String({ minLength: 1, description: 'PEM certificate file' }),
          key: Type.String({ minLength: 1, description: 'PEM private key file' }),
          ca: Type.Optional(Type.String({ minLength: 1, description: 'CA file for client certs' })),
        },
        { additionalProperties: false, description: 'serve Forward over TLS' },
      ),
    ),
    max_frame_bytes: Type.Integer({
      minimum: 1024,
      default: 8 * 1024 * 1024,
      description: 'largest single Forward request; larger closes the connection, no ack',
    }),
    max_decompressed_bytes: Type.Integer({
      minimum: 1024,
      default: 64 * 1024 * 1024,
      description: 'largest decompressed CompressedPackedForward payload',
    }),
    max_entries_per_request: Type.Integer({
      minimum: 1,
      default: DEFAULT_MAX_ENTRIES_PER_REQUEST,
      description:
        'most events in one Forward request (a decoded event takes ~45× its bytes of memory); more closes the connection, no ack',
    }),
    max_connections: Type.Integer({
      minimum: 1,
      default: 1024,
      description: 'open TCP connections',
    }),
    handshake_timeout: Duration('10s', 'time a client has to finish the shared-key handshake', {
      min: '1ms',
    }),
    idle_timeout: Duration('5m', 'close connections silent for this long (0 = never)'),
  },
  'Fluentd Forward protocol input',
);
