/** `http:` the HTTP server: health, metrics, API and the HTTP inputs. */
import { Type } from '@sinclair/typebox';
import { Bind, Port, Section } from './common.ts';

export const HttpSection = Section(
  {
    bind: Bind('address to listen on (loopback by default)'),
    port: Port(9880, 'TCP port'),
    token: Type.Optional(
      Type.String({
        minLength: 8,
        description:
          'when set, inputs and API require the token: `Authorization: Bearer|Token <token>`, or HTTP basic auth with the token as password (any username); `POST /write` and `/query` also take it as the `p` query parameter',
      }),
    ),
    max_body_bytes: Type.Integer({
      minimum: 1024,
      default: 16 * 1024 * 1024,
      description: 'largest accepted request body (decompressed); larger is 413',
    }),
    asg_role_pattern: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'regex (fully anchored) on Auto Scaling group names pushed to /ingest/eventbridge, ' +
          'with a named group (?<role>…) and optionally (?<version>…); without it ASG events ' +
          'carry no role',
      }),
    ),
  },
  'HTTP server',
);
