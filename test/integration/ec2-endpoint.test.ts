/**
 * The EC2 Query API test endpoint itself: its wire format (checked with raw HTTP) and its
 * behaviour as seen by the real SDK, so other areas can rely on it.
 */
import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EC2_XMLNS, type Ec2Endpoint, startEc2Endpoint } from '../helpers/ec2-endpoint.ts';

describe('ec2 test endpoint', () => {
  let ec2: Ec2Endpoint;
  let client: EC2Client;

  beforeAll(async () => {
    ec2 = await startEc2Endpoint();
    client = new EC2Client({
      region: 'us-east-1',
      endpoint: ec2.url,
      credentials: { accessKeyId: 'AKIDENDPOINTTEST', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
  });
  beforeEach(() => {
    ec2.requests.length = 0;
    ec2.setPageSize(0);
    ec2.clearFailures();
  });
  afterAll(async () => {
    client.destroy();
    await ec2.close();
  });

  const post = (body: string) =>
    fetch(ec2.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });

  it('answers DescribeInstances in the documented XML shape', async () => {
    ec2.setInstances([
      {
        instanceId: 'i-1',
        state: 'running',
        imageId: 'ami-1',
        privateIpAddress: '10.0.0.1',
        tags: { Role: 'a&b' },
      },
    ]);
    const res = await post('Action=DescribeInstances&Version=2016-11-15');
    const xml = await res.text();
    expect(res.status).toBe(200);
    expect(xml).toContain(`<DescribeInstancesResponse xmlns="${EC2_XMLNS}">`);
    expect(xml).toMatch(/<requestId>[0-9a-f-]{36}<\/requestId>/);
    expect(xml).toContain(
      '<reservationSet><item><reservationId>r-1</reservationId><ownerId>123456789012</ownerId><instancesSet><item><instanceId>i-1</instanceId><imageId>ami-1</imageId><instanceState><code>16</code><name>running</name></instanceState>',
    );
    expect(xml).toContain('<tagSet><item><key>Role</key><value>a&amp;b</value></item></tagSet>');
    expect(ec2.requests[0]).toMatchObject({ action: 'DescribeInstances', signed: false });
  });

  it('throttles with RequestLimitExceeded, HTTP 503, in the EC2 error shape', async () => {
    ec2.throttleNext(1);
    const res = await post('Action=DescribeInstances&Version=2016-11-15');
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(
      /<Response><Errors><Error><Code>RequestLimitExceeded<\/Code><Message>Request limit exceeded\.<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>/,
    );
    expect((await post('Action=DescribeInstances&Version=2016-11-15')).status).toBe(200);
  });

  it('pages with NextToken and applies filters, as the SDK sees it', async () => {
    ec2.setInstances(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id, n) => ({
        instanceId: `i-${id}`,
        state: n === 6 ? 'terminated' : 'running',
        tags: { Role: n % 2 === 0 ? 'web' : 'api' },
      })),
    );
    const first = await client.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:Role', Values: ['web'] },
          { Name: 'instance-state-name', Values: ['running', 'pend*'] },
        ],
        MaxResults: 5,
      }),
    );
    ec2.setPageSize(2);
    const ids = (out: typeof first) =>
      (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId);
    expect(ids(first)).toEqual(['i-a', 'i-c', 'i-e']);
    expect(first.NextToken).toBeUndefined();

    const page1 = await client.send(new DescribeInstancesCommand({}));
    const page2 = await client.send(new DescribeInstancesCommand({ NextToken: page1.NextToken }));
    expect([ids(page1), ids(page2)]).toEqual([
      ['i-a', 'i-b'],
      ['i-c', 'i-d'],
    ]);
    expect(ec2.requests[0]!.filters).toEqual([
      { name: 'tag:Role', values: ['web'] },
      { name: 'instance-state-name', values: ['running', 'pend*'] },
    ]);
    expect(ec2.requests[0]).toMatchObject({ signed: true, accessKeyId: 'AKIDENDPOINTTEST' });
  });

  it('refuses unknown filters and out-of-range MaxResults as EC2 does', async () => {
    await expect(
      client.send(new DescribeInstancesCommand({ Filters: [{ Name: 'nope', Values: ['x'] }] })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(
      client.send(new DescribeInstancesCommand({ MaxResults: 2 })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('answers DescribeImages, failing explicit ids that do not exist but not filters', async () => {
    ec2.setImages([{ imageId: 'ami-1', name: 'web', tags: { AppVersion: '3' } }]);
    const byFilter = await client.send(
      new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: ['ami-1', 'ami-gone'] }] }),
    );
    expect(byFilter.Images?.map((i) => [i.ImageId, i.Tags])).toEqual([
      ['ami-1', [{ Key: 'AppVersion', Value: '3' }]],
    ]);
    await expect(
      client.send(new DescribeImagesCommand({ ImageIds: ['ami-1', 'ami-gone'] })),
    ).rejects.toMatchObject({ name: 'InvalidAMIID.NotFound' });
  });
});
