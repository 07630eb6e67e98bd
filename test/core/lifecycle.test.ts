import { describe, expect, it } from 'vitest';
import { component, startAll, stopAll } from '../../src/core/lifecycle.ts';
import { COMPONENT_CASES } from '../helpers/components.ts';

describe('lifecycle contract, for every component', () => {
  for (const c of COMPONENT_CASES) {
    describe(c.name, () => {
      it('stop() before start() resolves and does nothing', async () => {
        const comp = await c.make();
        await expect(comp.stop()).resolves.toBeUndefined();
        await expect(comp.stop()).resolves.toBeUndefined();
      });

      it('start() then stop() twice (and concurrently) is safe', async () => {
        const comp = await c.make();
        await comp.start();
        await Promise.all([comp.stop(), comp.stop()]);
        await expect(comp.stop()).resolves.toBeUndefined();
      });

      it('has a name', async () => {
        const comp = await c.make();
        expect(comp.name).toMatch(/^[a-z][a-z0-9-]*$/);
      });
    });
  }
});

describe('component()', () => {
  it('refuses a second start and runs stop hooks once', async () => {
    let stops = 0;
    const c = component('x', { start: () => {}, stop: () => void stops++ });
    await c.start();
    await expect(c.start()).rejects.toThrow(/start\(\) called twice/);
    await Promise.all([c.stop(), c.stop(), c.stop()]);
    expect(stops).toBe(1);
  });

  it('startAll stops already-started components in reverse when one fails', async () => {
    const order: string[] = [];
    const mk = (name: string, fail = false) =>
      component(name, {
        start: () => {
          if (fail) throw new Error(`${name} failed`);
          order.push(`start ${name}`);
        },
        stop: () => void order.push(`stop ${name}`),
      });
    await expect(startAll([mk('a'), mk('b'), mk('c', true)])).rejects.toThrow('c failed');
    expect(order).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });

  it('startAll reports the start failure first even when stopping the started ones fails too', async () => {
    // The start error is the cause the operator must see (a port in use, a bad file); a stop
    // error during the clean-up used to replace it with "some components failed to stop".
    const a = component('a', {
      start: () => {},
      stop: () => {
        throw new Error('a could not stop');
      },
    });
    const cause = new Error('b: listen EADDRINUSE 127.0.0.1:24224');
    const b = component('b', {
      start: () => {
        throw cause;
      },
      stop: () => {},
    });
    const err = await startAll([a, b]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as AggregateError).message).toContain('b: listen EADDRINUSE 127.0.0.1:24224');
    expect((err as AggregateError).errors[0]).toBe(cause);
    expect((err as AggregateError).errors.map((e: Error) => e.message)).toContain(
      'a could not stop',
    );
  });

  it('startAll rethrows the start failure itself when the clean-up succeeds', async () => {
    const cause = new TypeError('bad');
    const ok = component('ok', { start: () => {}, stop: () => {} });
    const bad = component('bad', {
      start: async () => {
        throw cause;
      },
      stop: () => {},
    });
    await expect(startAll([ok, bad])).rejects.toBe(cause);
  });

  it('stopAll runs every stop even when one throws', async () => {
    const stopped: string[] = [];
    const a = component('a', { start: () => {}, stop: () => void stopped.push('a') });
    const b = component('b', {
      start: () => {},
      stop: () => {
        throw new Error('b broke');
      },
    });
    await startAll([a, b]);
    await expect(stopAll([a, b])).rejects.toThrow(AggregateError);
    expect(stopped).toEqual(['a']);
  });
});
