/** The lifecycle tracker as a pure state machine: table-style cases over scripted changes. */
import { describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../src/fleet/lifecycle-event.ts';
import {
  emptyTrackerState,
  inheritableSlot,
  step,
  type TrackerChange,
  type TrackerState,
} from '../../src/fleet/lifecycle-tracker.ts';

const settings = { replaceWindowMs: 60_000 };
const run = (changes: TrackerChange[], state: TrackerState = emptyTrackerState()) => {
  const events: LifecycleEvent[] = [];
  for (const c of changes) {
    const r = step(state, c, settings);
    state = r.state;
    events.push(...r.events);
  }
  return { state, events };
};
const launch = (at: number, id: string, version = 'v1', slot = 0, role = 'web'): TrackerChange => ({
  kind: 'launch',
  at,
  instanceId: id,
  role,
  version,
  slot,
});
const term = (
  at: number,
  id: string,
  version = 'v1',
  slot = 0,
  cause?: 'scale' | 'fault' | 'release',
): TrackerChange => ({
  kind: 'terminate',
  at,
  instanceId: id,
  role: 'web',
  version,
  slot,
  ...(cause ? { cause } : {}),
});
const kinds = (events: LifecycleEvent[]) => events.map((e) => e.kind);
const base = [launch(0, 'a', 'v1', 0), launch(0, 'b', 'v1', 1)];

describe('lifecycle tracker', () => {
  it('says a returning instance returned and never pairs it as a replace of another', () => {
    // b ends, then a (ended long ago, its own termination out of the window) comes back in
    // b's slot: a return, not a replacement of b.
    const { events } = run([
      ...base,
      term(0, 'a', 'v1', 0),
      term(100_000, 'b', 'v1', 1),
      { ...launch(110_000, 'a', 'v1', 1), returning: true } as TrackerChange,
    ]);
    expect(events.slice(-1).map((e) => [e.kind, e.text])).toEqual([
      ['launch', 'a returned (v1, slot 1)'],
    ]);
    expect(kinds(events).filter((k) => k === 'replace')).toEqual([]);
  });

  it('pairs a terminate-first replacement of the same version as a fault with the inherited slot', () => {
    const { events } = run([...base, term(100_000, 'a', 'v1', 0), launch(130_000, 'c', 'v1', 0)]);
    expect(events.filter((e) => e.kind === 'replace')).toEqual([
      expect.objectContaining({
        oldInstanceId: 'a',
        newInstanceId: 'c',
        slot: 0,
        cause: 'fault',
        time: 130_000,
        text: 'a → c (v1, fault, slot 0)',
      }),
    ]);
  });

  it('keeps a cause the termination reported', () => {
    const { events } = run([
      ...base,
      term(100_000, 'a', 'v1', 0, 'release'),
      launch(110_000, 'c', 'v1', 0),
    ]);
    expect(events.find((e) => e.kind === 'replace')?.cause).toBe('release');
  });

  it('pairs a surge-first release (launch, then terminate) and calls it a release', () => {
    const { events } = run([...base, launch(100_000, 'c', 'v2', 2), term(120_000, 'a', 'v1', 0)]);
    expect(events.find((e) => e.kind === 'replace')).toMatchObject({
      oldInstanceId: 'a',
      newInstanceId: 'c',
      cause: 'release',
      slot: 2,
      time: 120_000,
    });
  });

  it('does not pair outside the replace window, nor a scale-in, nor a same-version launch-first', () => {
    expect(kinds(run([...base, term(100_000, 'a'), launch(200_000, 'c')]).events)).not.toContain(
      'replace',
    );
    expect(
      kinds(run([...base, term(100_000, 'a', 'v1', 0, 'scale'), launch(110_000, 'c')]).events),
    ).not.toContain('replace');
    expect(
      kinds(run([...base, launch(100_000, 'c', 'v1', 2), term(110_000, 'a')]).events),
    ).not.toContain('replace');
  });

  it('prefers the pending termination that freed the new instance slot', () => {
    const three = [...base, launch(0, 'x', 'v1', 2)];
    const { events } = run([
      ...three,
      term(100_000, 'a', 'v1', 0),
      term(101_000, 'x', 'v1', 2),
      launch(102_000, 'c', 'v1', 2),
    ]);
    expect(events.find((e) => e.kind === 'replace')).toMatchObject({
      oldInstanceId: 'x',
      newInstanceId: 'c',
    });
  });

  it('tells the registry which slot a launch inherits, within the window only', () => {
    const { state } = run([...base, term(100_000, 'b', 'v1', 1)]);
    expect(inheritableSlot(state, 'web', 110_000, settings)).toBe(1);
    expect(inheritableSlot(state, 'web', 200_000, settings)).toBeUndefined();
    expect(inheritableSlot(state, 'api', 110_000, settings)).toBeUndefined();
  });

  it('follows a rollout from start through progress to finish', () => {
    const { events } = run([
      ...base,
      launch(0, 'x', 'v1', 2),
      launch(10, 'c', 'v2', 3),
      term(20, 'a', 'v1', 0),
      launch(30, 'd', 'v2', 0),
      term(40, 'b', 'v1', 1),
      term(50, 'x', 'v1', 2),
    ]);
    expect(
      events
        .filter((e) => e.kind.startsWith('rollout'))
        .map((e) => [e.kind, e.progress?.done, e.progress?.total]),
    ).toEqual([
      ['rollout_start', 1, 4],
      ['rollout_progress', 2, 4],
      ['rollout_finish', 2, 2],
    ]);
  });

  it('finishes a one-member role rollout replaced terminate-first', () => {
    const { events } = run([
      launch(0, 'a', 'v1', 0),
      term(10, 'a', 'v1', 0),
      launch(20, 'b', 'v2', 0),
    ]);
    expect(kinds(events)).toEqual([
      'launch',
      'terminate',
      'launch',
      'replace',
      'rollout_start',
      'rollout_finish',
    ]);
  });

  it('reports an abandoned rollout when the new version disappears', () => {
    const { events } = run([...base, launch(10, 'c', 'v2', 2), term(20, 'c', 'v2', 2)]);
    expect(events.at(-1)).toMatchObject({
      kind: 'rollout_finish',
      text: 'rollout v1 → v2 abandoned (0/2)',
    });
  });

  it('counts in-place version changes toward a rollout', () => {
    const { events } = run([
      ...base,
      {
        kind: 'version_change',
        at: 5,
        instanceId: 'a',
        role: 'web',
        oldVersion: 'v1',
        newVersion: 'v2',
        slot: 0,
      },
      {
        kind: 'version_change',
        at: 6,
        instanceId: 'b',
        role: 'web',
        oldVersion: 'v1',
        newVersion: 'v2',
        slot: 1,
      },
    ]);
    expect(kinds(events).slice(2)).toEqual(['rollout_start', 'rollout_finish']);
  });

  it('turns a CI deploy into a deploy event', () => {
    const { events } = run([
      { kind: 'deploy', at: 7, role: 'web', version: 'v3', phase: 'started', url: 'https://ci/1' },
    ]);
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'deploy',
        role: 'web',
        version: 'v3',
        text: 'deploy of v3 started',
        url: 'https://ci/1',
      }),
    ]);
  });

  it('is deterministic: the same changes give the same events with the same ids', () => {
    const script = [...base, term(100_000, 'a'), launch(110_000, 'c', 'v2', 0)];
    const one = run(script);
    const two = run(script);
    expect(two.events).toEqual(one.events);
    expect(new Set(one.events.map((e) => e.id)).size).toBe(one.events.length);
  });

  it('keeps no pending launch for the initial members of a fleet', () => {
    const { state } = run([launch(0, 'a'), launch(0, 'b', 'v1', 1), launch(0, 'c', 'v1', 2)]);
    expect(state.roles.web).toMatchObject({ versions: { v1: 3 }, pendingLaunches: [] });
  });

  it('does not change the state it was given', () => {
    const { state } = run(base);
    const frozen = JSON.stringify(state);
    step(state, term(10, 'a'), settings);
    expect(JSON.stringify(state)).toBe(frozen);
  });
});
