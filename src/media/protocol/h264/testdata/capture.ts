/**
 * Regenerates the H.264 test data in this folder with the system ffmpeg/ffprobe:
 *   node src/media/protocol/h264/testdata/capture.ts
 * For each stream: `<name>.h264` (Annex B elementary stream), `<name>.avcc` (the avcC record
 * ffmpeg writes in MP4) and `<name>.json` (what ffprobe says: size, profile, level, key flags).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const here = import.meta.dirname;
const lavfi = (size: string): string[] => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`];

const streams: Record<string, string[]> = {
  // 320x240 constrained baseline, zerolatency (several slices per frame), IDR every 30 frames.
  baseline: [
    ...lavfi('320x240'),
    ...['-c:v', 'libx264', '-profile:v', 'baseline', '-tune', 'zerolatency', '-bf', '0', '-g', '30'],
    ...['-frames:v', '40'],
  ],
  // 1280x720 high profile with B-frames, low bitrate.
  high: [...lavfi('1280x720'), ...['-c:v', 'libx264', '-profile:v', 'high', '-b:v', '400k', '-g', '8', '-frames:v', '10']],
  // High 4:4:4 with scaling matrices (cqm=jvt) and frame cropping in both directions.
  crop444: [
    ...lavfi('322x182'),
    ...['-pix_fmt', 'yuv444p', '-c:v', 'libx264', '-profile:v', 'high444', '-x264-params', 'cqm=jvt'],
    ...['-b:v', '100k', '-frames:v', '3'],
  ],
  // Interlaced (MBAFF, frame_mbs_only_flag = 0) with vertical cropping in field units.
  interlaced: [
    ...lavfi('352x284'),
    ...['-c:v', 'libx264', '-profile:v', 'high', '-x264-params', 'interlaced=1', '-b:v', '100k', '-frames:v', '3'],
  ],
};

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

/** The payload of the first `avcC` box in an MP4 file. */
function avcC(mp4: Buffer): Buffer {
  const i = mp4.indexOf('avcC');
  if (i < 4) throw new Error('no avcC box');
  const size = mp4.readUInt32BE(i - 4);
  return mp4.subarray(i + 4, i - 4 + size);
}

const tmp = mkdtempSync(join(tmpdir(), 'h264-capture-'));
try {
  for (const [name, args] of Object.entries(streams)) {
    const es = join(here, `${name}.h264`);
    run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, '-f', 'h264', es]);
    const mp4 = join(tmp, `${name}.mp4`);
    run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', es, '-c', 'copy', mp4]);
    writeFileSync(join(here, `${name}.avcc`), avcC(readFileSync(mp4)));
    const probe = (entries: string): Record<string, unknown[]> =>
      JSON.parse(run('ffprobe', ['-v', 'error', '-of', 'json', '-show_entries', entries, es]));
    const stream = probe('stream=width,height,profile,level,pix_fmt,field_order').streams![0];
    const packets = probe('packet=size,flags').packets as { size: string; flags: string }[];
    const frames = probe('frame=key_frame,pict_type').frames as { key_frame: number; pict_type: string }[];
    const expected = {
      stream,
      // Decode order: one packet per access unit, as ffmpeg's h264 parser splits the stream.
      packets: packets.map((p) => ({ size: Number(p.size), key: p.flags.startsWith('K') })),
      // Presentation order.
      frames: frames.map((f) => ({ key: f.key_frame === 1, type: f.pict_type })),
    };
    writeFileSync(join(here, `${name}.json`), JSON.stringify(expected, null, 1) + '\n');
    console.log(name, JSON.stringify(stream));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
