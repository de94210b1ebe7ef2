import { defineConfig } from 'vitest/config';

/**
 * Two groups. First the files that only compute or talk to the database (two at a time: the
 * machine has two cores); then, one file at a time, the ones that run real media — ffmpeg,
 * Chromium, WebRTC viewers, clusters of node processes, fixed ports (mDNS) — whose pace is part of what
 * they check and which would starve each other side by side.
 */
const SERIAL = [
  'test/**/*.e2e.test.ts',
  'test/cluster-cli.test.ts',
  'test/*two-process.test.ts',
  'test/egress*.test.ts',
  'test/whep.test.ts',
  'test/turn-shim.test.ts',
  'test/rtsp-*.test.ts',
  'test/werift-patch.test.ts',
  'test/stream-key*.test.ts',
  'test/lesson-end.test.ts',
  'src/media/servers/**/*.test.ts',
  'src/media/transcode/**/*.test.ts',
  'src/media/recording/**/*.test.ts',
  'src/media/protocol/hls/**/*.test.ts',
  'src/control/cluster/discovery.test.ts',
];

const common = { testTimeout: 60_000, hookTimeout: 60_000, pool: 'forks' } as const;

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...common,
          name: 'parallel',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: SERIAL,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...common,
          name: 'serial',
          include: SERIAL,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
