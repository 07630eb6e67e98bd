import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { envKeys } from '../../src/config/env.ts';
import { parseConfig } from '../../src/config/load.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import { generateArtefacts } from '../../src/generate/artefacts.ts';
import { generateOptions } from '../../src/generate/cli-dashboards.ts';
import { parseSimulateArgs } from '../../src/simulate/cli.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const text = readFileSync(`${root}docker-compose.yml`, 'utf8');

/** Compose's `${VAR:-default}` interpolation, with nothing set in the environment. */
const interpolate = (s: string) =>
  s.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_m, _v, d: string | undefined) => d ?? '');

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const compose = parseYaml(interpolate(text)) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const svc = (name: string) => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};

describe('docker-compose.yml', () => {
  it('has the full stack: InfluxDB 1.8, Grafana, fleetline, a fluentd agent, a sample app and the simulator', () => {
    expect(svc('influxdb').image).toBe('influxdb:1.8');
    expect(svc('grafana').image).toMatch(/^grafana\/grafana(-oss)?:/);
    expect(svc('fleetline').build).toBe('.');
    expect(svc('fluentd').image).toMatch(/^fluent\/fluentd:v1\./);
    expect(svc('simulator').build).toBe('.');
    expect(existsSync(`${root}Dockerfile`)).toBe(true);
  });

  it("configures fleetline only through environment variables that are fleetline's config keys", () => {
    const env = svc('fleetline').environment ?? {};
    const known = new Set(envKeys(ConfigSchema).map((k) => k.name));
    const unknown = Object.keys(env).filter((k) => !known.has(k));
    expect(unknown).toEqual([]);
    const { config } = parseConfig({}, { env });
    expect(config.influxdb?.url).toBe('http://influxdb:8086');
    expect(config.forward.shared_key).toBeTruthy();
    expect(config.registry.records).toBeDefined();
    // Published ports are the ones fleetline listens on, on loopback only.
    const ports = (svc('fleetline').ports ?? []).map((p) =>
      /^127\.0\.0\.1:(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(p),
    );
    expect(ports.every(Boolean)).toBe(true);
    const containerPorts = new Set(ports.map((m) => Number(m![2])));
    expect(containerPorts).toEqual(new Set([config.forward.port, config.http.port]));
    for (const s of Object.values(compose.services)) {
      for (const p of s.ports ?? []) expect(p).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('mounts only files that exist and volumes that are declared', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const [source] = v.split(':');
        if (source!.startsWith('./'))
          expect(existsSync(`${root}${source!.slice(2)}`), `${name}: ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: volume ${source}`).toContain(source);
      }
      for (const dep of Object.keys(s.depends_on ?? {}))
        expect(Object.keys(compose.services)).toContain(dep);
    }
  });

  it('gives the fluentd agent every environment variable its config reads', () => {
    const conf = readFileSync(`${root}fluentd/agent.conf`, 'utf8');
    const wanted = [...conf.matchAll(/ENV\['([A-Z_]+)'\]/g)].map((m) => m[1]);
    const env = svc('fluentd').environment ?? {};
    for (const w of wanted) expect(env, w).toHaveProperty(w!);
    expect(env.FLEETLINE_SHARED_KEY).toBe(
      svc('fleetline').environment?.FLEETLINE_FORWARD_SHARED_KEY,
    );
  });

  it('runs the simulator with arguments it accepts, against the fleetline service', () => {
    const [cmd, ...args] = svc('simulator').command ?? [];
    expect(cmd).toBe('simulate');
    const options = parseSimulateArgs(args);
    expect(options.forward).toMatchObject({ host: 'fleetline', port: 24224 });
    expect(options.forward.sharedKey).toBe(
      svc('fleetline').environment?.FLEETLINE_FORWARD_SHARED_KEY,
    );
  });

  it("provisions Grafana from fleetline's generated files, in Grafana's provisioning formats", () => {
    const env = svc('fleetline').environment ?? {};
    const { config } = parseConfig({}, { env });
    const artefacts = generateArtefacts(
      {
        roles: [{ role: 'web', versions: ['1.0.0'], members: 2, slots: [0, 1] }],
        measurements: [],
        instances: [],
      },
      generateOptions(config),
    );
    const files = new Map(artefacts.files.map((f) => [f.path, f.content]));

    // Every file the Grafana container links into /etc/grafana/provisioning is generated.
    const grafana = svc('grafana');
    const mount = (grafana.volumes ?? []).find((v) => v.startsWith('dashboards:'))!.split(':')[1]!;
    const links = [...(grafana.entrypoint ?? []).join(' ').matchAll(/ln -sf (\S+) (\S+)/g)];
    expect(links.length).toBe(3);
    for (const [, from, to] of links) {
      expect(from!.startsWith(`${mount}/`)).toBe(true);
      expect(files.has(from!.slice(mount.length + 1)), from).toBe(true);
      expect(to).toMatch(
        /^\/etc\/grafana\/provisioning\/(datasources|dashboards|alerting)\/[a-z-]+\.yaml$/,
      );
    }

    const dashboards = parseYaml(files.get('provisioning/dashboards.yaml')!) as {
      apiVersion: number;
      providers: { type: string; options: { path: string }; folderUid?: string }[];
    };
    expect(dashboards.apiVersion).toBe(1);
    expect(dashboards.providers[0]).toMatchObject({ type: 'file', options: { path: mount } });

    const datasources = parseYaml(files.get('provisioning/datasources.yaml')!) as {
      apiVersion: number;
      datasources: {
        type: string;
        uid: string;
        url: string;
        access: string;
        jsonData: { dbName: string; version?: string };
      }[];
    };
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources[0]).toMatchObject({
      type: 'influxdb',
      access: 'proxy',
      uid: config.grafana.datasource_uid,
      url: 'http://influxdb:8086',
      jsonData: { dbName: 'fleetline' },
    });

    const alerts = parseYaml(files.get('provisioning/alerting/fleetline-alerts.yaml')!) as {
      apiVersion: number;
      groups: {
        name: string;
        folder: string;
        interval: string;
        rules: {
          uid: string;
          title: string;
          condition: string;
          data: { refId: string }[];
          labels: Record<string, string>;
        }[];
      }[];
    };
    expect(alerts.apiVersion).toBe(1);
    expect(alerts.groups.length).toBeGreaterThan(0);
    for (const g of alerts.groups) {
      expect(g.folder).toBeTruthy();
      expect(g.interval).toMatch(/^\d+[smh]$/);
      for (const r of g.rules) {
        expect(r.uid.length).toBeLessThanOrEqual(40);
        expect(r.data.map((d) => d.refId)).toContain(r.condition);
        expect(r.labels.role).toBe('web');
      }
    }
    // No secret from the environment leaks into a generated file.
    for (const content of files.values()) {
      expect(content).not.toContain(String(env.FLEETLINE_FORWARD_SHARED_KEY));
    }
  });
});
