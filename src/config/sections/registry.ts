/** `registry:` where fleetline learns which instance has which role and version. */
import { Type } from '@sinclair/typebox';
import { Duration, Section, Span } from './common.ts';

export const RegistrySection = Section(
  {
    identity_keys: Type.Array(Type.String({ minLength: 1 }), {
      default: ['instance_id', 'ec2_instance_id', 'host', 'hostname'],
      description: 'record keys tried in order to find the producing instance',
    }),
    extra_labels: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'registry attributes copied as labels besides role/version/slot (e.g. env, az)',
    }),
    unknown: Section(
      {
        hold: Duration('5s', 'how long a record of an unknown instance waits for discovery'),
        max_held: Type.Integer({
          minimum: 0,
          default: 100_000,
          description: 'records held at once',
        }),
      },
      'records whose instance is not (yet) known',
    ),
    replace_window: Span('15m', 'a launch this soon after a terminate in a role is a replace'),
    termination_grace: Span(
      '5m',
      'how long an EventBridge/Auto Scaling termination outweighs an EC2 listing that still shows the instance live (DescribeInstances lags)',
    ),
    static: Type.Optional(
      Type.Object(
        {
          path: Type.String({ minLength: 1, description: 'YAML/JSON inventory file' }),
          reload: Duration('5s', 'how often the file is checked for changes', { min: '1ms' }),
        },
        { additionalProperties: false },
      ),
    ),
    records: Type.Optional(
      Type.Object(
        {
          role_key: Type.String({ minLength: 1, default: 'role' }),
          version_key: Type.String({ minLength: 1, default: 'version' }),
        },
        { additionalProperties: false, description: 'labels agents put in the records' },
      ),
    ),
    ec2: Type.Optional(
      Type.Object(
        {
          region: Type.String({ minLength: 1 }),
          endpoint: Type.Optional(Type.String({ format: 'uri' })),
          filters: Type.Array(
            Type.Object(
              { name: Type.String({ minLength: 1 }), values: Type.Array(Type.String()) },
              { additionalProperties: false },
            ),
            { default: [] },
          ),
          refresh_interval: Duration('60s', 'DescribeInstances period', { min: '1ms' }),
          role_tag: Type.String({ minLength: 1, default: 'Role' }),
          version_tag: Type.String({ minLength: 1, default: 'Version' }),
          ami_version_tag: Type.Optional(
            Type.String({
              minLength: 1,
              description: 'AMI tag holding the version, used when the instance has no version tag',
            }),
          ),
          max_attempts: Type.Integer({
            minimum: 1,
            maximum: 20,
            default: 5,
            description: 'SDK attempts per API call (throttling and 5xx are retried with backoff)',
          }),
          page_size: Type.Integer({
            minimum: 5,
            maximum: 1000,
            default: 1000,
            description: 'DescribeInstances MaxResults per page',
          }),
          max_backoff: Duration('10m', 'longest wait between refreshes after repeated failures'),
        },
        { additionalProperties: false, description: 'EC2 DescribeInstances discovery' },
      ),
    ),
  },
  'fleet registry sources and identity resolution',
);
