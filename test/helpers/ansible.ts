/**
 * Real `ansible-playbook` for the inventory tests (Debian's ansible-core; `npm test` installs it
 * first, scripts/ensure-test-tools.sh): a playbook in a temp dir, run over an inventory JSON
 * served by a one-line dynamic-inventory script, reporting which `PWNED_*` marker files the run
 * created (each hostile payload in the tests creates one).
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll } from 'vitest';

const run = promisify(execFile);

const ansiblePlaybook = (process.env.PATH ?? '')
  .split(':')
  .map((d) => join(d, 'ansible-playbook'))
  .find((p) => existsSync(p));

export interface AnsibleRun {
  stdout: string;
  /** The `PWNED_*` files created in the markers directory, sorted. */
  created: string[];
}

export interface AnsiblePlaybook {
  /** A fresh directory for one run's markers (and its inventory files). */
  markersDir(name: string): string;
  /** Runs the playbook over `inventory` (a `--list` JSON). */
  play(inventory: unknown, markers: string): Promise<AnsibleRun>;
}

/** For a describe block: the playbook `lines`, failing the block if ansible-playbook is missing. */
export function usePlaybook(name: string, lines: string[]): AnsiblePlaybook {
  beforeAll(() => {
    if (!ansiblePlaybook)
      throw new Error(
        'ansible-playbook is not on PATH: `npm test` installs it first (scripts/ensure-test-tools.sh)',
      );
  });
  const dir = mkdtempSync(join(tmpdir(), `fleetline-ansible-${name}-`));
  const playbook = join(dir, 'play.yml');
  writeFileSync(playbook, [...lines, ''].join('\n'));
  return {
    markersDir: (run) => mkdtempSync(join(dir, `${run}-`)),
    async play(inventory, markers) {
      const json = join(markers, 'inventory.json');
      writeFileSync(json, JSON.stringify(inventory));
      const script = join(markers, 'inventory.sh');
      writeFileSync(
        script,
        `#!/bin/sh\nif [ "$1" = "--list" ]; then cat '${json}'; else echo '{}'; fi\n`,
      );
      chmodSync(script, 0o755);
      const output = await run(ansiblePlaybook!, ['-i', script, playbook], {
        env: {
          ...process.env,
          ANSIBLE_HOST_KEY_CHECKING: 'False',
          ANSIBLE_TIMEOUT: '3',
          ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
          ANSIBLE_NOCOLOR: '1',
        },
        timeout: 120_000,
      }).catch((e: { stdout?: string }) => e); // unreachable hosts and failed tasks exit non-zero
      return {
        stdout: output.stdout ?? '',
        created: readdirSync(markers)
          .filter((f) => f.startsWith('PWNED_'))
          .sort(),
      };
    },
  };
}
