/**
 * A child process for the spool crash tests: it opens a real store and spool in `dir` and keeps
 * appending batches from four concurrent producers, printing `ack <id>` only after consume
 * resolved (stdout to a pipe is synchronous on Linux, so a printed ack reached the parent).
 * The test kills it with SIGKILL at an arbitrary moment.
 *
 * Mode `deliver` also registers a consumer `sink` that confirms its first two deliveries and
 * hangs on the third, printing `hang <firstSeq> <lastSeq>`, so the kill lands mid-delivery.
 *
 *   node --import tsx test/helpers/spool-child.ts <dir> append|deliver
 */
import { createSpool } from '../../src/spool/spool.ts';
import { createStore } from '../../src/store/sqlite.ts';
import { testDeps } from './deps.ts';
import { accessLogBatch, spoolConfig } from './spool-fixtures.ts';

const [dir, mode] = process.argv.slice(2);
if (!dir || (mode !== 'append' && mode !== 'deliver')) {
  process.stderr.write('usage: spool-child.ts <dir> append|deliver\n');
  process.exit(2);
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const store = createStore(dir);
await store.start();
const spool = createSpool(spoolConfig({ commit_interval: '2ms' }), testDeps(), store);
if (mode === 'deliver') {
  let calls = 0;
  spool.register({
    name: 'sink',
    deliver(batches) {
      calls++;
      const first = batches[0]!.seq;
      const last = batches[batches.length - 1]!.seq;
      if (calls < 3) return Promise.resolve();
      say(`hang ${first} ${last}`);
      return new Promise<void>(() => {});
    },
  });
}
await spool.start();
say('ready');

let nextId = 0;
const producer = async () => {
  for (;;) {
    const id = nextId++;
    await spool.consume(accessLogBatch(1 + (id % 20), id));
    say(`ack ${id}`);
  }
};
await Promise.all([producer(), producer(), producer(), producer()]);
