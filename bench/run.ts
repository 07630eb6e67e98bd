/**
 * `npm run bench`: runs every benchmark (bench/*.bench.ts) one after another in its own
 * process, so one benchmark's heap and JIT state do not colour the next. Benchmarks are not
 * tests: they print numbers; docs/BENCHMARKS.md records them with the date and machine.
 *
 *   npm run bench                 all of them
 *   npm run bench -- spool        only those whose file name contains "spool"
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !filter || f.includes(filter))
  .sort();

console.log(`# fleetline benchmarks — ${new Date().toISOString()}`);
console.log(`# node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}\n`);
let failed = 0;
for (const f of files) {
  console.log(`## ${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${f}`], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`(${f} exited with ${r.status ?? r.signal})`);
  }
  console.log('');
}
process.exit(failed > 0 ? 1 : 0);
