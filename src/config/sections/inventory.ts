/**
 * `inventory:` what the generated Ansible inventory (`fleetline inventory`, `/api/inventory`)
 * exposes of the registry's attributes (EC2 tags, static-file attributes).
 */
import { type Static, Type } from '@sinclair/typebox';
import { Section } from './common.ts';

export const InventorySection = Section(
  {
    tag_hostvars: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'attribute (EC2 tag) keys exposed as Ansible hostvars, exact or globs with * and ?; none by default (whoever may tag an instance must not set Ansible variables, and tags can hold secrets)',
    }),
    tag_hostvar_prefix: Type.String({
      pattern: '^([A-Za-z_][A-Za-z0-9_]*)?$',
      default: 'tag_',
      description:
        'prepended to the hostvar name of an exposed tag (tag Env → tag_Env), so a tag can never shadow an Ansible or fleetline variable; names that are reserved anyway are refused',
    }),
  },
  'Ansible / ssh_config inventory',
);

export type InventoryConfig = Static<typeof InventorySection>;
