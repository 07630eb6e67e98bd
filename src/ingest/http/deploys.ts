/**
 * Pure mapping of a CI pipeline's deploy announcement (`POST /api/deploys`) to a `deploy`
 * observation.
 *
 *   { "role": "web", "version": "1.4.3", "phase": "started" | "finished",
 *     "text"?: "…", "url"?: "https://ci/…", "time"?: 1764244800 | 1764244800123 | "2026-11-27T12:00:00Z" }
 *
 * `time` is RFC 3339, or epoch seconds / milliseconds (a number below 10^11 is taken as
 * seconds: that is year 5138 in seconds and March 1973 in milliseconds); absent means now.
 */
import type { Observation } from '../../fleet/observation.ts';
import { rfc3339Ms } from './event-time.ts';

export interface DeployBody {
  role: string;
  version: string;
  phase: 'started' | 'finished';
  text?: string;
  url?: string;
  time?: number | string;
}

export function deployObservation(body: DeployBody, nowMs: number): Observation {
  const observation: Observation = {
    kind: 'deploy',
    at: deployTime(body.time, nowMs),
    role: body.role,
    version: body.version,
    phase: body.phase,
    source: 'deploy-api',
  };
  if (body.text !== undefined) observation.text = body.text;
  if (body.url !== undefined) observation.url = body.url;
  return observation;
}

function deployTime(time: number | string | undefined, nowMs: number): number {
  if (time === undefined) return nowMs;
  if (typeof time === 'string') return rfc3339Ms(time);
  return time < 1e11 ? Math.round(time * 1000) : Math.round(time);
}
