import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.ts';
import { loadConfig } from '../../src/config/load.ts';

const SECRET = 's3cret-shared-key-value';

function loadError(text: string): ConfigError {
  const dir = mkdtempSync(join(tmpdir(), 'fleetline-yaml-'));
  writeFileSync(join(dir, 'f.yaml'), text);
  try {
    loadConfig({ cwd: dir, env: {}, file: 'f.yaml' });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config › YAML problems', () => {
  let warnings: string[];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  beforeEach(() => {
    warnings = [];
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it.each([
    ['an unterminated quote', `forward:\n  shared_key: "${SECRET}\n`],
    ['a duplicate key', `forward:\n  shared_key: ${SECRET}\n  shared_key: other\n`],
    ['a nested mapping in a compact one', `http:\n  token: ${SECRET}: x\n`],
  ])('names the line and column of %s without quoting the file', (_, text) => {
    const err = loadError(text);
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/not valid YAML .*line \d+, column \d+/);
    expect(err.message).not.toContain(SECRET);
  });

  it('refuses a tag it cannot resolve instead of taking the text literally, and prints no value', async () => {
    // `!vault …` / `!env …` tags from other tools would otherwise become the literal secret
    // text (with only a warning on stderr that quotes the line).
    const err = loadError(`forward:\n  shared_key: !vault ${SECRET}\n`);
    expect(err.problems).toEqual([expect.stringMatching(/line 2, column 15: .*!vault/)]);
    expect(err.message).not.toContain(SECRET);
    await new Promise((r) => setImmediate(r));
    expect(warnings.join('\n')).not.toContain(SECRET);
  });
});
