/**
 * EventBridge sample events shaped exactly as AWS documents them (EC2 state-change
 * notification, EC2 Auto Scaling successful launch/terminate), placeholders filled in.
 */
import type { EventBridgeEvent } from '../../../src/ingest/http/eventbridge.ts';

export const ec2StateChange = (state: string): EventBridgeEvent =>
  ({
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '123456789012',
    time: '2026-11-27T11:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
    detail: { 'instance-id': 'i-abcd1111', state },
  }) as EventBridgeEvent;

export const asgEvent = (
  detailType: 'EC2 Instance Launch Successful' | 'EC2 Instance Terminate Successful',
  cause: string,
  group = 'my-auto-scaling-group',
): EventBridgeEvent =>
  ({
    version: '0',
    id: '12345678-1234-1234-1234-123456789012',
    'detail-type': detailType,
    source: 'aws.autoscaling',
    account: '123456789012',
    time: '2026-11-27T11:02:00Z',
    region: 'us-west-2',
    resources: [
      'arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:042cba90-ad2f-431c-9b4d-6d9055bcc9fb:autoScalingGroupName/my-auto-scaling-group',
      'arn:aws:ec2:us-west-2:123456789012:instance/i-1234567890abcdef0',
    ],
    detail: {
      StatusCode: 'InProgress',
      Description:
        detailType === 'EC2 Instance Launch Successful'
          ? 'Launching a new EC2 instance: i-1234567890abcdef0'
          : 'Terminating EC2 instance: i-1234567890abcdef0',
      AutoScalingGroupName: group,
      ActivityId: '87654321-4321-4321-4321-210987654321',
      Details: { 'Availability Zone': 'us-west-2b', 'Subnet ID': 'subnet-12345678' },
      RequestId: '12345678-1234-1234-1234-123456789012',
      StatusMessage: '',
      EndTime: '2026-11-27T11:01:30.500Z',
      EC2InstanceId: 'i-1234567890abcdef0',
      StartTime: '2026-11-27T11:00:45Z',
      Cause: cause,
      Origin: 'AutoScalingGroup',
      Destination: 'EC2',
    },
  }) as unknown as EventBridgeEvent;
