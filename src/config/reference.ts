/**
 * Renders the configuration reference (docs/CONFIGURATION.md) from the schema itself, so the
 * documentation cannot drift from what is validated: every key with its type, default,
 * environment variable and description. `test/config/reference.test.ts` fails when the
 * committed file is stale (`npx tsx src/config/reference.ts > docs/CONFIGURATION.md`).
 */
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema } from './schema.ts';

interface Row {
  path: string;
  type: string;
  def: string;
  env: string;
  description: string;
}

type Node = TSchema & {
  type?: string;
  properties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
  const?: unknown;
  default?: unknown;
  description?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minDuration?: string;
  maxDuration?: string;
};

function typeName(s: Node): string {
  if (s.anyOf?.every((a) => a.const !== undefined))
    return s.anyOf.map((a) => String(a.const)).join(' \\| ');
  if (s.type === 'array') return `list of ${s.items ? typeName(s.items) : 'any'}`;
  if (s.type === 'string' && s.pattern?.includes('ms|s|m|h|d')) return 'duration';
  if (s.type === 'object' && !s.properties) return 'map';
  return s.type ?? 'any';
}

function rows(schema: Node, prefix: string[], out: Row[]): Row[] {
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const path = [...prefix, key];
    if (sub.type === 'object' && sub.properties) {
      out.push({
        path: path.join('.'),
        type: 'section',
        def: '',
        env: '',
        description: sub.description ?? '',
      });
      rows(sub, path, out);
      continue;
    }
    const isArray = sub.type === 'array';
    out.push({
      path: path.join('.'),
      type: typeName(sub),
      def: sub.default === undefined ? '—' : `\`${JSON.stringify(sub.default)}\``,
      env:
        isArray && sub.items?.type === 'object'
          ? ''
          : `\`FLEETLINE_${path.join('_').toUpperCase()}\``,
      description: [
        sub.description ?? '',
        sub.minimum !== undefined || sub.maximum !== undefined
          ? `(${sub.minimum ?? ''}…${sub.maximum ?? ''})`
          : '',
        sub.minDuration !== undefined || sub.maxDuration !== undefined
          ? `(${sub.minDuration ?? ''}…${sub.maxDuration ?? ''})`
          : '',
      ]
        .filter(Boolean)
        .join(' '),
    });
  }
  return out;
}

export function renderConfigReference(): string {
  const lines = [
    '# Configuration reference',
    '',
    'Generated from the schema (`src/config/schema.ts`) by `npx tsx src/config/reference.ts`;',
    'a test fails when this file is stale. One YAML file (`--config FILE`, else',
    '`$FLEETLINE_CONFIG`, else `./fleetline.yaml`, else defaults) plus environment overrides:',
    'every scalar key can be set as `FLEETLINE_<PATH>` (lists as JSON). Unknown keys are errors;',
    'every error is reported at once with its key path. Durations are written `500ms`, `10s`,',
    '`5m`, `2h`, `7d`; a duration that drives a timer is at most `24d` (the longest a Node timer',
    'can wait). A section marked optional (—) is off until configured.',
    '',
    '| key | type | default | environment | description |',
    '|---|---|---|---|---|',
  ];
  for (const r of rows(ConfigSchema as Node, [], [])) {
    const desc = r.description.replace(/\|/g, '\\|');
    lines.push(
      r.type === 'section'
        ? `| **${r.path}** | section | | | ${desc} |`
        : `| \`${r.path}\` | ${r.type} | ${r.def} | ${r.env} | ${desc} |`,
    );
  }
  lines.push(
    '',
    'Relabel rules (`relabel:`) are a list of objects with the keys `action`, `source_labels`,',
    '`separator`, `regex`, `target_label`, `replacement`, `modulus` (Prometheus',
    '`relabel_config` semantics; regexes are fully anchored).',
    '',
  );
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(renderConfigReference());
