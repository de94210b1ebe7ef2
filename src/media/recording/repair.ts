/**
 * Repair of recordings a dead node left open (DESIGN §3, recording): run at start-up, before
 * the recorder. A playlist without EXT-X-ENDLIST is closed (VOD + ENDLIST) over the segments it
 * lists whose files exist; `.tmp` files (a segment or playlist being written) and segment files
 * the playlist never listed are deleted. A directory with `recording.json` but no playlist yet
 * gets an empty closed playlist. Closed recordings are only reported. One bad directory is
 * logged and skipped, never fatal.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../shared/logger.ts';
import { mediaPlaylist, parseMediaPlaylist, type PlaylistSegment } from '../protocol/hls/playlist.ts';
import { RECORDING_FILES, writeFileAtomic, type RecordingMeta } from './recorder.ts';

/** One recording directory as repair found (and left) it. */
export interface RepairedRecording {
  /** The directory name (the id the recorder was given). */
  id: string;
  /** The stream path, from recording.json. */
  path?: string;
  durationMs: number;
  /** Bytes of the init and media segments the playlist uses. */
  sizeBytes: number;
  segments: number;
  /** True when the playlist was closed (or written) by this repair. */
  repaired: boolean;
}

/** Total bytes of the regular files in `dir` (not recursive). */
export async function recordingDirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isFile()) total += (await stat(join(dir, e.name))).size;
  }
  return total;
}

/** Size of a file, or undefined when it does not exist. */
async function fileSize(file: string): Promise<number | undefined> {
  try {
    const s = await stat(file);
    return s.isFile() ? s.size : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The figures of a playlist's segments (each init segment counted once). */
async function measure(
  dir: string,
  segments: readonly PlaylistSegment[],
): Promise<{ durationMs: number; sizeBytes: number }> {
  let sizeBytes = 0;
  let durationS = 0;
  const maps = new Set<string>();
  for (const s of segments) {
    sizeBytes += (await fileSize(join(dir, s.uri))) ?? 0;
    durationS += s.durationS;
    if (s.mapUri) maps.add(s.mapUri);
  }
  for (const m of maps) sizeBytes += (await fileSize(join(dir, m))) ?? 0;
  return { durationMs: Math.round(durationS * 1000), sizeBytes };
}

/** Repairs one directory; undefined when it is not a recording. */
async function repairOne(dir: string, id: string, logger: Logger): Promise<RepairedRecording | undefined> {
  const metaText = await readText(join(dir, RECORDING_FILES.meta));
  const meta = metaText === undefined ? undefined : (JSON.parse(metaText) as Partial<RecordingMeta>);
  const path = typeof meta?.path === 'string' ? meta.path : undefined;
  const text = await readText(join(dir, RECORDING_FILES.playlist));
  if (text === undefined && meta === undefined) return undefined;
  const parsed = text === undefined ? { segments: [], ended: false } : parseMediaPlaylist(text);
  if (parsed.ended) {
    const m = await measure(dir, parsed.segments);
    return { id, ...(path ? { path } : {}), ...m, segments: parsed.segments.length, repaired: false };
  }
  // Open: the node died while recording. Keep what the playlist lists and the disk holds.
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  const present = new Set(names);
  const kept: PlaylistSegment[] = [];
  for (const s of parsed.segments) {
    if (present.has(s.uri) && (!s.mapUri || present.has(s.mapUri))) kept.push(s);
  }
  const listed = new Set(kept.map((s) => s.uri));
  const removed: string[] = [];
  for (const name of names) {
    const orphan = /^seg-\d+\.m4s$/.test(name) && !listed.has(name);
    if (name.endsWith('.tmp') || orphan) {
      await rm(join(dir, name), { force: true });
      removed.push(name);
    }
  }
  await writeFileAtomic(join(dir, RECORDING_FILES.playlist), mediaPlaylist({ segments: kept, ended: true }));
  const m = await measure(dir, kept);
  logger.warn(
    { id, path, segments: kept.length, dropped: parsed.segments.length - kept.length, removed },
    'recording left open by a stopped node: playlist closed',
  );
  return { id, ...(path ? { path } : {}), ...m, segments: kept.length, repaired: true };
}

/** Closes every recording under `root` a dead node left open; reports every recording there. */
export async function repairRecordings(root: string, logger: Logger): Promise<RepairedRecording[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: RepairedRecording[] = [];
  for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    try {
      const r = await repairOne(join(root, e.name), e.name, logger);
      if (r) out.push(r);
    } catch (err) {
      logger.error({ err, dir: join(root, e.name) }, 'recording directory could not be repaired: skipped');
    }
  }
  return out;
}
