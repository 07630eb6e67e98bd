/**
 * `fleetline demo` checks its own options and the simulator's before it starts the service:
 * a bad value is a usage error (exit 2) with nothing started and nothing written.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runDemo } from '../../src/cli/demo.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'fleetline-demo-args-'));
  const config = join(dir, 'fleetline.yaml');
  writeFileSync(
    config,
    `data_dir: ${join(dir, 'data')}\nforward: { port: 0 }\nhttp: { port: 0 }\ngrafana: { out_dir: ${join(dir, 'dashboards')} }\n`,
  );
  const err: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err.push(String(s));
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  return { dir, config, err };
}

describe('fleetline demo options', () => {
  for (const [flag, value] of [
    ['--every', 'soon'],
    ['--speed', 'fast'],
    ['--duration', 'forever'],
  ] as const) {
    it(`rejects ${flag} ${value} with exit 2 before starting anything`, async () => {
      const { dir, config, err } = setup();
      const code = await Promise.race([
        runDemo(['--config', config, '--duration', '2s', flag, value]).catch(
          (e: Error) => `threw: ${e.message}`,
        ),
        new Promise((r) => setTimeout(() => r('still running'), 3000)),
      ]);
      vi.restoreAllMocks();
      expect(code).toBe(2);
      expect(err.join('')).toContain(flag);
      expect(existsSync(join(dir, 'data'))).toBe(false);
    });
  }
});
