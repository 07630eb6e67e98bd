import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envKeys } from '../../src/config/env.ts';
import { renderConfigReference } from '../../src/config/reference.ts';
import { ConfigSchema } from '../../src/config/schema.ts';

describe('docs/CONFIGURATION.md', () => {
  const committed = readFileSync(new URL('../../docs/CONFIGURATION.md', import.meta.url), 'utf8');

  it('is what the schema renders (regenerate: npx tsx src/config/reference.ts > docs/CONFIGURATION.md)', () => {
    expect(committed).toBe(renderConfigReference());
  });

  it('names the environment variable of every scalar key', () => {
    for (const k of envKeys(ConfigSchema)) {
      if (k.type === 'array') continue;
      expect(committed, k.name).toContain(`\`${k.name}\``);
    }
  });
});
