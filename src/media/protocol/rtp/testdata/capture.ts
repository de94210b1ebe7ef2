/**
 * Regenerates the RTP captures in this folder: ffmpeg sends to a local UDP socket and every
 * packet is saved as received (`<name>.rtp`: a 2-byte big-endian length, then the packet),
 * with the SDP ffmpeg prints (`<name>.sdp`).
 *   node src/media/protocol/rtp/testdata/capture.ts
 * - baseline: ../../h264/testdata/baseline.h264, copied (not re-encoded), RFC 6184, -pkt_size
 *   1200, first sequence number 65500 so that the capture crosses the 16-bit wrap.
 * - opus: one second of a 440 Hz tone, libopus 20 ms frames, RFC 7587.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

const here = import.meta.dirname;

async function capture(name: string, args: string[]): Promise<void> {
  const rtp = createSocket('udp4');
  const rtcp = createSocket('udp4');
  const packets: Buffer[] = [];
  rtp.on('message', (m) => packets.push(m));
  rtcp.on('message', () => {});
  await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => rtcp.bind(0, '127.0.0.1', resolve));
  const port = (rtp.address() as AddressInfo).port;
  const rtcpPort = (rtcp.address() as AddressInfo).port;
  const ffmpeg = spawn(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-re', ...args, `rtp://127.0.0.1:${port}?rtcpport=${rtcpPort}`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let sdp = '';
  ffmpeg.stdout.on('data', (d: Buffer) => (sdp += d.toString()));
  const code = await new Promise<number | null>((resolve) => ffmpeg.on('close', resolve));
  if (code !== 0) throw new Error(`ffmpeg exited with ${code}`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  rtp.close();
  rtcp.close();
  for (let i = 1; i < packets.length; i++) {
    const a = packets[i - 1]!.readUInt16BE(2);
    const b = packets[i]!.readUInt16BE(2);
    if (((b - a) & 0xffff) !== 1) throw new Error(`${name}: loss or reordering between ${a} and ${b}: capture again`);
  }
  const out = Buffer.concat(
    packets.flatMap((p) => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(p.length);
      return [len, p];
    }),
  );
  writeFileSync(join(here, `${name}.rtp`), out);
  writeFileSync(join(here, `${name}.sdp`), sdp.replace(/^SDP:\n/, '').replace(/^m=(\w+) \d+/m, 'm=$1 0'));
  console.log(`${name}: ${packets.length} packets, ${out.length} bytes`);
}

await capture('baseline', [
  ...['-framerate', '30', '-i', join(here, '../../h264/testdata/baseline.h264'), '-c', 'copy'],
  ...['-f', 'rtp', '-payload_type', '96', '-pkt_size', '1200', '-ssrc', '305419896', '-seq', '65500'],
]);
await capture('opus', [
  ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=1'],
  ...['-c:a', 'libopus', '-b:a', '32k', '-frame_duration', '20'],
  ...['-f', 'rtp', '-payload_type', '111', '-ssrc', '287454020'],
]);
