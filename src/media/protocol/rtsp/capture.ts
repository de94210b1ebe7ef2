/**
 * Regenerates the RTSP captures in ./testdata:
 *   node src/media/protocol/rtsp/capture.ts
 *
 * A tiny RTSP server on 127.0.0.1 answers every request with 200 and records, per connection,
 * every byte the client sent (`<name>.bin`) and every byte it answered (`<name>.reply.bin`).
 * - ffmpeg-h264-aac: ffmpeg publishes (OPTIONS, ANNOUNCE, SETUP ×2, RECORD, interleaved RTP,
 *   TEARDOWN) 1 s of testsrc2 1280x720 30 fps (libx264 baseline, no B-frames, GOP 30) and a
 *   440 Hz sine at 48 kHz in AAC, over TCP.
 * - ffmpeg-h264-opus: the same with libopus.
 * - ffprobe-play: ffprobe -rtsp_transport tcp plays `rtsp://…/live/x?token=secret`; the server
 *   answers DESCRIBE with buildSdp() of the tracks ffmpeg announced in ffmpeg-h264-aac, and after
 *   PLAY replays the interleaved RTP ffmpeg sent there. What ffprobe made of it is saved as
 *   `ffprobe-play.json`.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  formatTransport,
  interleavedFrame,
  parseTransport,
  RtspParser,
  serializeResponse,
  type RtspRequest,
} from './message.ts';
import { buildSdp, parseSdp } from './sdp.ts';

const dir = join(import.meta.dirname, 'testdata');

/** What the server does besides answering 200. */
interface Behaviour {
  describe?: () => string;
  /** Called after the PLAY response went out. */
  play?: (send: (b: Uint8Array) => void, channels: number[]) => void;
}

function run(cmd: string, args: string[]): Promise<string> {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}`)))),
  );
}

async function capture(
  name: string,
  client: (url: string) => [string, string[]],
  behaviour: Behaviour = {},
): Promise<string> {
  const inBytes: Buffer[] = [];
  const outBytes: Buffer[] = [];
  let connections = 0;
  const server = createServer((sock: Socket) => {
    connections++;
    const parser = new RtspParser();
    const channels: number[] = [];
    const send = (b: Uint8Array): void => {
      outBytes.push(Buffer.from(b));
      sock.write(b);
    };
    const answer = (req: RtspRequest): void => {
      const headers: [string, string][] = [['CSeq', req.headers.get('cseq') ?? '0']];
      let body: Uint8Array | undefined;
      if (req.method === 'OPTIONS') {
        headers.push(['Public', 'OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, TEARDOWN']);
      } else if (req.method === 'DESCRIBE' && behaviour.describe) {
        headers.push(['Content-Type', 'application/sdp']);
        body = new TextEncoder().encode(behaviour.describe());
      } else if (req.method === 'SETUP') {
        const t = parseTransport(req.headers.get('transport') ?? '')[0]!;
        if (t.interleaved) channels.push(t.interleaved[0]);
        headers.push(['Transport', formatTransport({ ...t, ssrc: 0x1a2b3c4d + channels.length })]);
      }
      if (req.method !== 'OPTIONS' && req.method !== 'DESCRIBE' && req.method !== 'ANNOUNCE') {
        headers.push(['Session', '12345678;timeout=60']);
      }
      send(serializeResponse({ status: 200, headers, body }));
      if (req.method === 'PLAY') behaviour.play?.(send, channels);
      if (req.method === 'TEARDOWN') sock.end();
    };
    sock.on('data', (d: Buffer) => {
      inBytes.push(d);
      for (const item of parser.push(d)) if (item.type === 'request') answer(item.request);
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const [cmd, args] = client(`rtsp://127.0.0.1:${port}/live/x`);
  const stdout = await run(cmd, args);
  await new Promise((resolve) => setTimeout(resolve, 300));
  server.close();
  if (connections !== 1) throw new Error(`${name}: ${connections} connections`);
  const a = Buffer.concat(inBytes);
  const b = Buffer.concat(outBytes);
  writeFileSync(join(dir, `${name}.bin`), a);
  writeFileSync(join(dir, `${name}.reply.bin`), b);
  console.log(`${name}: port ${port}, ${a.length} bytes in, ${b.length} bytes out`);
  return stdout;
}

const publish =
  (audio: string[]) =>
  (url: string): [string, string[]] => [
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-re'],
      ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30'],
      ...['-f', 'lavfi', '-i', 'sine=f=440:sample_rate=48000'],
      ...[
        '-c:v',
        'libx264',
        '-profile:v',
        'baseline',
        '-bf',
        '0',
        '-g',
        '30',
        '-crf',
        '35',
        '-preset',
        'veryfast',
      ],
      ...audio,
      ...['-t', '1', '-f', 'rtsp', '-rtsp_transport', 'tcp', url],
    ],
  ];

await capture('ffmpeg-h264-aac', publish(['-c:a', 'aac', '-b:a', '64k']));
await capture('ffmpeg-h264-opus', publish(['-c:a', 'libopus', '-b:a', '32k']));

// Replay what ffmpeg published to ffprobe, with a description of our own.
const published = new RtspParser().push(new Uint8Array(readFileSync(join(dir, 'ffmpeg-h264-aac.bin'))));
const announce = published.find((i) => i.type === 'request' && i.request.method === 'ANNOUNCE');
if (announce?.type !== 'request') throw new Error('no ANNOUNCE');
const tracks = parseSdp(new TextDecoder().decode(announce.request.body)).map((t, i) => ({
  ...t,
  control: `trackID=${i}`,
}));
const frames = published.flatMap((i) => (i.type === 'interleaved' ? [i] : []));
const probe = await capture(
  'ffprobe-play',
  (url) => [
    'ffprobe',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-rtsp_transport',
      'tcp',
      '-show_streams',
      '-of',
      'json',
      `${url}?token=secret`,
    ],
  ],
  {
    describe: () => buildSdp({ address: '127.0.0.1', sessionName: 'live/x', tracks }),
    play: (send, channels) => {
      // ffmpeg published video on channels 0-1, audio on 2-3; map them to what ffprobe set up.
      for (const f of frames) send(interleavedFrame(channels[f.channel >> 1]! + (f.channel & 1), f.data));
    },
  },
);
const streams = (JSON.parse(probe) as { streams: Record<string, unknown>[] }).streams.map((s) => {
  const keep = ['index', 'codec_name', 'profile', 'width', 'height', 'pix_fmt', 'sample_rate', 'channels'];
  return Object.fromEntries(Object.entries(s).filter(([k]) => keep.includes(k)));
});
writeFileSync(join(dir, 'ffprobe-play.json'), JSON.stringify({ streams }, null, 2) + '\n');
console.log(JSON.stringify(streams));
