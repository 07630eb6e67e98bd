/** A small live fleet for the inventory tests: web ×3 mid-rollout, db ×1, one unresolved. */
import type { GenerationModel } from '../../src/generate/model.ts';

const launched = Date.UTC(2026, 10, 27, 9, 0, 0);

export const inventoryModel: GenerationModel = {
  roles: [
    { role: 'web', versions: ['1.4.2', '1.4.3'], members: 3, slots: [0, 1, 2] },
    { role: 'db-primary', versions: ['2.0'], members: 1, slots: [0] },
  ],
  measurements: [],
  instances: [
    {
      instanceId: 'i-new',
      role: 'web',
      version: '1.4.3',
      slot: 1,
      az: 'eu-west-1b',
      privateIp: '10.0.1.11',
      privateDns: 'ip-10-0-1-11.eu-west-1.compute.internal',
      launchedAt: launched + 300_000,
    },
    {
      instanceId: 'i-web0',
      role: 'web',
      version: '1.4.2',
      slot: 0,
      az: 'eu-west-1a',
      privateIp: '10.0.1.10',
      launchedAt: launched,
    },
    {
      instanceId: 'i-web2',
      role: 'web',
      version: '1.4.2',
      slot: 2,
      privateDns: 'ip-10-0-1-12.eu-west-1.compute.internal',
      launchedAt: launched,
    },
    {
      instanceId: 'i-db0',
      role: 'db-primary',
      version: '2.0',
      slot: 0,
      privateIp: '10.0.2.10',
      launchedAt: launched,
      attributes: { env: 'prod' },
    },
    { instanceId: 'i-lost', role: 'unknown', version: 'unknown', slot: 0, launchedAt: launched },
  ],
};
