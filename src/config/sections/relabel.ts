// biome-ignore-all lint/suspicious/noTemplateCurlyInString: descriptions quote Prometheus templates such as ${name}
/**
 * `relabel:` Prometheus relabel_config rules applied, in order, to every entry's labels after
 * the fleet stage has set role/version/slot. Semantics and validation: src/relabel/rules.ts
 * (`compileRules`, which reports problems as `relabel[i].<key>: …`). Regexes are RE2 syntax,
 * fully anchored, translated to JS (src/relabel/re2-to-js.ts lists the differences).
 */
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
    source_labels: Type.Array(Type.String(), {
      default: [],
      description: 'labels whose values are joined with `separator`; a missing label is ""',
    }),
    separator: Type.String({ default: ';' }),
    regex: Type.String({
      default: '(.*)',
      description:
        'RE2 syntax, anchored at both ends; for labelmap/labeldrop/labelkeep it matches label names',
    }),
    target_label: Type.Optional(
      Type.String({ description: 'label to write; for replace it may use $1 / ${name}' }),
    ),
    replacement: Type.String({
      default: '$1',
      description:
        'Go Regexp.Expand template ($1, ${1}, ${name}, $$); an empty result removes the target',
    }),
    modulus: Type.Optional(Type.Integer({ minimum: 1, description: 'hashmod only' })),
  },
  { additionalProperties: false },
);

export const RelabelSection = Type.Array(RelabelRule, {
  default: [],
  description: 'relabel rules (Prometheus relabel_config semantics)',
});
