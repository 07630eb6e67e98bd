/** `relabel:` Prometheus relabel_config rules applied to every entry's labels. */
import { Type } from '@sinclair/typebox';

export const RelabelRule = Type.Object(
  {
    action: Type.Union(
      [
        'replace',
        'keep',
        'drop',
        'labelmap',
        'labeldrop',
        'labelkeep',
        'lowercase',
        'uppercase',
        'hashmod',
      ].map((a) => Type.Literal(a)),
      { default: 'replace' },
    ),
    source_labels: Type.Array(Type.String(), { default: [] }),
    separator: Type.String({ default: ';' }),
    regex: Type.String({ default: '(.*)' }),
    target_label: Type.Optional(Type.String()),
    replacement: Type.String({ default: '$1' }),
    modulus: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export const RelabelSection = Type.Array(RelabelRule, {
  default: [],
  description: 'relabel rules (Prometheus relabel_config semantics)',
});
