/**
 * Writes generated files into the output directory: only files whose bytes changed are
 * rewritten (atomically, via a temp file and rename, so Grafana's provisioning scanner never
 * reads half a file), and dashboards of roles that disappeared are removed.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface WriteResult {
  written: string[];
  unchanged: string[];
  removed: string[];
}

/** Generated dashboard files are named `<uid>.json` and every uid starts `fl-`. */
const GENERATED_DASHBOARD = /^fl-[a-z0-9_-]+\.json$/;

export async function writeArtefacts(
  outDir: string,
  files: readonly { path: string; content: string }[],
): Promise<WriteResult> {
  const result: WriteResult = { written: [], unchanged: [], removed: [] };
  for (const f of files) {
    const target = join(outDir, f.path);
    const existing = await readFile(target, 'utf8').catch(() => undefined);
    if (existing === f.content) {
      result.unchanged.push(f.path);
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    await writeFile(tmp, f.content);
    await rename(tmp, target);
    result.written.push(f.path);
  }
  const keep = new Set(files.map((f) => f.path));
  const present = await readdir(outDir).catch(() => [] as string[]);
  for (const name of present.sort()) {
    if (GENERATED_DASHBOARD.test(name) && !keep.has(name)) {
      await rm(join(outDir, name), { force: true });
      result.removed.push(name);
    }
  }
  return result;
}
