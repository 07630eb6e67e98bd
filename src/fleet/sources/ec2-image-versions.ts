/**
 * Versions read from AMI tags (`registry.ec2.ami_version_tag`), for instances whose own tags
 * carry no version. Images are looked up with DescribeImages and cached: a found version is
 * kept while instances still use the image (AMIs are immutable and re-tagging is rare); an
 * image without the tag, or not visible to us, is asked again after `missRetryMs`.
 *
 * The lookup uses an `image-id` *filter* rather than `ImageIds`: EC2 fails the whole call with
 * `InvalidAMIID.NotFound` when one listed id is gone (deregistered), while a filter just
 * returns the images that exist. A failed lookup is counted and logged, and the refresh goes on
 * without those versions.
 */
import { DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { Deps } from '../../core/deps.ts';
import { counter } from '../../telemetry/metrics.ts';

export interface AmiVersionCache {
  /**
   * Versions for `imageIds` that have one; looks up what is not cached. A failed lookup is
   * counted and logged, not thrown; it rejects only when `signal` aborts it.
   */
  versions(imageIds: readonly string[], signal?: AbortSignal): Promise<Map<string, string>>;
}

interface Entry {
  version: string | undefined;
  checkedAt: number;
}

/** Values per `image-id` filter; EC2 caps the values of one filter at 200. */
const CHUNK = 100;

export function createAmiVersionCache(
  opts: { client: EC2Client; tag: string; missRetryMs?: number },
  deps: Deps,
): AmiVersionCache {
  const missRetryMs = opts.missRetryMs ?? 10 * 60_000;
  const cache = new Map<string, Entry>();
  const failures = counter(
    deps.metrics,
    'fleetline_ec2_image_lookup_failures_total',
    'DescribeImages calls for AMI version tags that failed',
  );

  async function lookup(ids: readonly string[], signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const out = await opts.client.send(
        new DescribeImagesCommand({
          Filters: [{ Name: 'image-id', Values: chunk }],
          IncludeDeprecated: true,
        }),
        signal ? { abortSignal: signal } : {},
      );
      const now = deps.clock.now();
      const found = new Map<string, string | undefined>();
      for (const image of out.Images ?? []) {
        if (!image.ImageId) continue;
        const tag = image.Tags?.find((t) => t.Key === opts.tag)?.Value;
        found.set(image.ImageId, tag === '' ? undefined : tag);
      }
      for (const id of chunk) cache.set(id, { version: found.get(id), checkedAt: now });
    }
  }

  return {
    async versions(imageIds, signal) {
      const now = deps.clock.now();
      // Forget images no instance uses any more, so the cache stays as small as the fleet.
      const wanted = new Set(imageIds);
      for (const id of cache.keys()) if (!wanted.has(id)) cache.delete(id);
      const stale = imageIds.filter((id) => {
        const e = cache.get(id);
        return !e || (e.version === undefined && now - e.checkedAt >= missRetryMs);
      });
      if (stale.length > 0) {
        try {
          await lookup(stale, signal);
        } catch (err) {
          if (signal?.aborted) throw err;
          failures.inc();
          deps.log.warn(
            {
              event: 'ec2_image_lookup_failed',
              reason: err instanceof Error ? err.name : 'unknown',
              detail: err instanceof Error ? err.message : String(err),
              images: stale.length,
            },
            'DescribeImages for AMI version tags failed; versions from AMIs are missing this refresh',
          );
        }
      }
      const result = new Map<string, string>();
      for (const id of imageIds) {
        const v = cache.get(id)?.version;
        if (v !== undefined) result.set(id, v);
      }
      return result;
    },
  };
}
