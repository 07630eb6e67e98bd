import { describe, expect, it } from 'vitest';
import {
  classifyResponse,
  parseRetryAfter,
  serverMessage,
} from '../../../src/sinks/influxdb/errors.ts';

describe('InfluxDB write response classification', () => {
  it.each([
    [204, 'written'],
    [201, 'written'],
    [413, 'rejected'],
    [401, 'misconfigured'],
    [403, 'misconfigured'],
    [404, 'misconfigured'],
    [405, 'misconfigured'],
    [429, 'unavailable'],
    [500, 'unavailable'],
    [503, 'unavailable'],
  ])('classifies %i as %s', (status, kind) => {
    expect(classifyResponse(status, '', {}, 0).kind).toBe(kind);
  });

  it.each([
    ['{"error":"partial write: field type conflict: input field \\"v\\" … dropped=2"}', 'rejected'],
    ['{"error":"unable to parse \'m v=\': missing field value"}', 'rejected'],
    [
      '{"error":"partial write: max-series-per-database limit exceeded: (100) dropped=150"}',
      'rejected',
    ],
    ['{"code":"invalid","message":"unable to parse line 3"}', 'rejected'],
    ['<html><body>400 Bad Request</body></html>', 'misconfigured'],
    ['{"error":"invalid consistency level"}', 'misconfigured'],
  ])('classifies a 400 with body %s as %s', (body, kind) => {
    expect(classifyResponse(400, body, {}, 0).kind).toBe(kind);
  });

  it.each([
    [
      '{"code":"unprocessable entity","message":"failure writing points to database: partial write: field type conflict: input field \\"v\\" on measurement \\"m\\" is type string, already exists as type float dropped=1"}',
      'rejected',
    ],
    ['{"code":"unprocessable entity","message":"some other reason"}', 'misconfigured'],
  ])('classifies a 422 (InfluxDB 2.x partial write) with body %s as %s', (body, kind) => {
    expect(classifyResponse(422, body, {}, 0).kind).toBe(kind);
  });

  it('reads the message from v1 JSON, v2 JSON, plain text or the X-Influxdb-Error header', () => {
    expect(serverMessage('{"error":"partial write: x dropped=1"}\n')).toBe(
      'partial write: x dropped=1',
    );
    expect(serverMessage('{"code":"invalid","message":"bad line"}')).toBe('invalid: bad line');
    expect(serverMessage('Bad Gateway')).toBe('Bad Gateway');
    expect(serverMessage('', 'from header')).toBe('from header');
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:05 GMT', 1000)).toBe(4000);
    expect(parseRetryAfter('soon', 0)).toBe(undefined);
    expect(parseRetryAfter(undefined, 0)).toBe(undefined);
    expect(classifyResponse(503, '', { retryAfter: '3' }, 0)).toMatchObject({ retryAfterMs: 3000 });
  });
});
