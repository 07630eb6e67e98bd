/** An EC2 source configuration for tests against the local EC2 endpoint. */
import type { Ec2Config } from '../../src/fleet/sources/ec2-source.ts';

export function ec2Config(endpoint: string, overrides: Partial<Ec2Config> = {}): Ec2Config {
  return {
    region: 'eu-west-1',
    endpoint,
    filters: [],
    refresh_interval: '1h',
    role_tag: 'Role',
    version_tag: 'Version',
    max_attempts: 1,
    page_size: 1000,
    max_backoff: '1h',
    ...overrides,
  };
}
