import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envKeys } from '../../src/config/env.ts';
import { defaultConfig, loadConfig, parseConfig } from '../../src/config/load.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import { problemsOf } from './problems.ts';

describe('config › defaults', () => {
  it('binds Forward and HTTP to loopback on the documented ports with no InfluxDB', () => {
    const c = defaultConfig();
    expect(c.forward.bind).toBe('127.0.0.1');
    expect(c.forward.port).toBe(24224);
    expect(c.http.bind).toBe('127.0.0.1');
    expect(c.http.port).toBe(9880);
    expect(c.data_dir).toBe('./data');
    expect(c.influxdb).toBeUndefined();
    expect(c.rollup.interval).toBe('10s');
    expect(c.forward.max_frame_bytes).toBe(8 * 1024 * 1024);
  });

  it('fills defaults inside a section that is only partly given', () => {
    const { config } = parseConfig({ influxdb: { url: 'http://127.0.0.1:8086' } });
    expect(config.influxdb?.api).toBe('v1');
    expect(config.influxdb?.database).toBe('fleetline');
    expect(config.influxdb?.batch_lines).toBe(5000);
  });

  it('freezes the result', () => {
    const c = defaultConfig();
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.forward)).toBe(true);
    expect(() => {
      (c.forward as { port: number }).port = 1;
    }).toThrow();
  });
});

describe('config › errors', () => {
  it('reports every problem at once, each with its key path', () => {
    const problems = problemsOf(() =>
      parseConfig({
        bogus: true,
        http: { port: 'eighty' },
        forward: { port: 70000, tls: { cert: 'x', key: 'y', extra: 1 } },
        influxdb: { url: 'not a url', api: 'v3' },
        rollup: { interval: 'ten seconds' },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'bogus: unknown key',
        'http.port: must be integer',
        'forward.port: must be <= 65535',
        'forward.tls.extra: unknown key',
        'influxdb.url: must be a URL',
        'influxdb.api: must be one of "v1", "v2"',
        expect.stringMatching(/^rollup\.interval: must match pattern/),
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('names the index of a bad relabel rule and a regex that does not compile', () => {
    const problems = problemsOf(() =>
      parseConfig({
        relabel: [
          { source_labels: ['role'], regex: '(unclosed', target_label: 'x' },
          { action: 'hashmod', source_labels: ['slot'], target_label: 'shard' },
          { action: 'explode' },
        ],
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^relabel\[2\]\.action: must be one of/)]),
    );
    // Semantic checks run only once the shape is valid: fix the shape and look again.
    const semantic = problemsOf(() =>
      parseConfig({
        relabel: [
          { source_labels: ['role'], regex: '(unclosed', target_label: 'x' },
          { action: 'hashmod', source_labels: ['slot'], target_label: 'shard' },
        ],
      }),
    );
    expect(semantic).toEqual([
      expect.stringMatching(/^relabel\[0\]\.regex: invalid regular expression "\(unclosed"/),
      'relabel[1].modulus: required (a positive integer) for action hashmod',
    ]);
    // RE2 syntax that JS lacks is accepted, as Prometheus accepts it.
    expect(() =>
      parseConfig({
        relabel: [
          {
            source_labels: ['role'],
            regex: '(?P<r>web)-\\d+',
            target_label: 'x',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a relabel template, not JS
            replacement: '${r}',
          },
        ],
      }),
    ).not.toThrow();
  });

  it('requires org and bucket for the v2 API', () => {
    expect(
      problemsOf(() => parseConfig({ influxdb: { url: 'http://h:8086', api: 'v2' } })),
    ).toEqual(['influxdb: api v2 needs both influxdb.org and influxdb.bucket']);
  });

  it('rejects a document that is not a mapping', () => {
    expect(problemsOf(() => parseConfig(['a']))).toEqual([
      '(root): must be a mapping of keys to values',
    ]);
  });
});

describe('config › environment overrides', () => {
  it('maps FLEETLINE_<PATH> onto keys, coercing by type', () => {
    const { config, overrides } = parseConfig(
      { http: { port: 1234 } },
      {
        env: {
          FLEETLINE_INFLUXDB_URL: 'http://127.0.0.1:8086',
          FLEETLINE_HTTP_PORT: '9999',
          FLEETLINE_FORWARD_ENABLED: 'false',
          FLEETLINE_SCHEMA_TAG_KEYS: '["level","status"]',
          FLEETLINE_DATA_DIR: '/tmp/x',
        },
      },
    );
    expect(config.influxdb?.url).toBe('http://127.0.0.1:8086');
    expect(config.http.port).toBe(9999);
    expect(config.forward.enabled).toBe(false);
    expect(config.schema.tag_keys).toEqual(['level', 'status']);
    expect(config.data_dir).toBe('/tmp/x');
    expect(overrides.sort()).toEqual([
      'FLEETLINE_DATA_DIR',
      'FLEETLINE_FORWARD_ENABLED',
      'FLEETLINE_HTTP_PORT',
      'FLEETLINE_INFLUXDB_URL',
      'FLEETLINE_SCHEMA_TAG_KEYS',
    ]);
  });

  it('reports an override that does not fit with the key path', () => {
    expect(problemsOf(() => parseConfig({}, { env: { FLEETLINE_HTTP_PORT: 'abc' } }))).toEqual([
      'http.port: must be integer',
    ]);
  });

  it('lists an environment name for every scalar key, including nested ones', () => {
    const names = envKeys(ConfigSchema).map((k) => k.name);
    expect(names).toContain('FLEETLINE_FORWARD_TLS_CERT');
    expect(names).toContain('FLEETLINE_INFLUXDB_TOKEN');
    expect(names).toContain('FLEETLINE_REGISTRY_UNKNOWN_HOLD');
    expect(names).toContain('FLEETLINE_ROLLUP_INTERVAL');
  });
});

describe('config › file resolution', () => {
  it('prefers --config, then $FLEETLINE_CONFIG, then ./fleetline.yaml, then defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-cfg-'));
    writeFileSync(join(dir, 'fleetline.yaml'), 'http:\n  port: 1111\n');
    writeFileSync(join(dir, 'env.yaml'), 'http:\n  port: 2222\n');
    writeFileSync(join(dir, 'flag.yaml'), 'http:\n  port: 3333\n');
    const env = { FLEETLINE_CONFIG: 'env.yaml' };
    expect(loadConfig({ cwd: dir, env, file: 'flag.yaml' }).config.http.port).toBe(3333);
    expect(loadConfig({ cwd: dir, env }).config.http.port).toBe(2222);
    expect(loadConfig({ cwd: dir, env: {} }).config.http.port).toBe(1111);
    const empty = mkdtempSync(join(tmpdir(), 'fleetline-cfg-'));
    const loaded = loadConfig({ cwd: empty, env: {} });
    expect(loaded.source).toBe('defaults');
    expect(loaded.config.http.port).toBe(9880);
  });

  it('reports invalid YAML and unreadable files clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-cfg-'));
    writeFileSync(join(dir, 'bad.yaml'), 'http: [\n');
    expect(problemsOf(() => loadConfig({ cwd: dir, env: {}, file: 'bad.yaml' }))[0]).toMatch(
      /not valid YAML/,
    );
    expect(problemsOf(() => loadConfig({ cwd: dir, env: {}, file: 'missing.yaml' }))[0]).toMatch(
      /cannot read/,
    );
  });
});

describe('config › environment names that set nothing', () => {
  it('lists FLEETLINE_* variables that match no key (a typo would silently change nothing)', () => {
    const { unknownEnv, overrides } = parseConfig(
      {},
      {
        env: {
          FLEETLINE_FORWARD_SHAREDKEY: 'secret-value',
          FLEETLINE_HTTP_PORT: '9999',
          FLEETLINE_CONFIG: 'fleetline.yaml',
          FLEETLINE_TEST_INFLUXD: '/usr/bin/influxd',
          PATH: '/usr/bin',
        },
      },
    );
    expect(unknownEnv).toEqual(['FLEETLINE_FORWARD_SHAREDKEY']);
    expect(overrides).toEqual(['FLEETLINE_HTTP_PORT']);
    expect(JSON.stringify(unknownEnv)).not.toContain('secret-value');
  });

  it('lists variables of real keys that are set but empty, which are ignored', () => {
    // `FLEETLINE_HTTP_TOKEN=${TOKEN}` with TOKEN unset would leave the API open without a word.
    const { emptyEnv, overrides, config } = parseConfig(
      {},
      { env: { FLEETLINE_HTTP_TOKEN: '', FLEETLINE_HTTP_PORT: '9999', FLEETLINE_NOPE: '' } },
    );
    expect(emptyEnv).toEqual(['FLEETLINE_HTTP_TOKEN']);
    expect(overrides).toEqual(['FLEETLINE_HTTP_PORT']);
    expect(config.http.token).toBeUndefined();
  });
});
