/**
 * JSON Schemas of the pushed fleet events: the EventBridge envelope, the `detail` of each
 * detail-type fleetline maps (as AWS documents them), and the CI deploy body.
 * Unknown fields are allowed in AWS events (AWS adds fields over time) but not in the deploy
 * body, where an unknown key is almost always a typo (`verison`).
 */
import { EC2_STATES } from './eventbridge.ts';

const RFC3339 = { type: 'string', format: 'date-time' } as const;

export const EVENTBRIDGE_ENVELOPE = {
  type: 'object',
  required: ['detail-type', 'source', 'time', 'detail'],
  properties: {
    'detail-type': { type: 'string', minLength: 1 },
    source: { type: 'string', minLength: 1 },
    time: RFC3339,
    detail: { type: 'object' },
  },
} as const;

export const EC2_STATE_CHANGE_DETAIL = {
  type: 'object',
  required: ['instance-id', 'state'],
  properties: {
    'instance-id': { type: 'string', pattern: '^i-[0-9a-zA-Z]+$' },
    state: { enum: [...EC2_STATES] },
  },
} as const;

export const ASG_ACTIVITY_DETAIL = {
  type: 'object',
  required: ['EC2InstanceId', 'AutoScalingGroupName'],
  properties: {
    EC2InstanceId: { type: 'string', pattern: '^i-[0-9a-zA-Z]+$' },
    AutoScalingGroupName: { type: 'string', minLength: 1 },
    StartTime: RFC3339,
    EndTime: RFC3339,
    Cause: { type: 'string' },
    Description: { type: 'string' },
    Details: {
      type: 'object',
      properties: { 'Availability Zone': { type: 'string' }, 'Subnet ID': { type: 'string' } },
    },
  },
} as const;

export const DEPLOY_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['role', 'version', 'phase'],
  properties: {
    role: { type: 'string', minLength: 1, maxLength: 256 },
    version: { type: 'string', minLength: 1, maxLength: 256 },
    phase: { enum: ['started', 'finished'] },
    text: { type: 'string', maxLength: 4096 },
    url: { type: 'string', format: 'uri', maxLength: 2048 },
    time: { type: ['number', 'string'], minimum: 0, format: 'date-time' },
  },
} as const;
