/**
 * The AWS SDK reads its credentials and settings from process.env. Tests that run the real SDK
 * against the local EC2 endpoint call this inside their `describe`: before them, every AWS
 * setting is removed and test credentials are set; after them, each variable is put back
 * exactly as found (never by replacing process.env itself, which would turn it into a plain
 * object).
 */
import { afterAll, beforeAll } from 'vitest';

const AWS_KEYS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_MAX_ATTEMPTS',
  'AWS_RETRY_MODE',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_EC2',
];

export function isolateAwsEnv(accessKeyId: string, secretAccessKey = 'test-secret-not-real'): void {
  const saved = Object.fromEntries(AWS_KEYS.map((k) => [k, process.env[k]]));
  beforeAll(() => {
    for (const k of AWS_KEYS) delete process.env[k];
    process.env.AWS_ACCESS_KEY_ID = accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = secretAccessKey;
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  });
  afterAll(() => {
    for (const k of AWS_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
}
