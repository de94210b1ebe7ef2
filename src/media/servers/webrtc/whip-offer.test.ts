import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AirError } from '../../../shared/errors.ts';
import { h264SendRank, MAX_WHIP_OFFER_BYTES, parseWhipOffer } from './whip-offer.ts';

/**
 * The WHIP offer reader on a real offer: `fixtures/chromium-whip-offer.sdp` was captured from
 * Chromium 156 (Debian, headless, the flags of test/helpers/chromium.ts) on 2026-12-04: a
 * canvas.captureStream() video and an oscillator's audio on sendonly transceivers, offer after
 * ICE gathering, candidate lines removed (they name the machine).
 */
const chromium = readFileSync(new URL('./fixtures/chromium-whip-offer.sdp', import.meta.url), 'utf8');

function code(fn: () => unknown): { code: string; status: number; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof AirError) return { code: e.code, status: e.status, message: e.message };
    throw e;
  }
  throw new Error('did not throw');
}

/** The payload type Chromium's offer gives `fmtp` (e.g. H.264 42e01f mode 1). */
function ptOf(sdp: string, codec: string, fmtp?: RegExp): number {
  for (const m of sdp.matchAll(new RegExp(`^a=rtpmap:(\\d+) ${codec}/`, 'gm'))) {
    const pt = m[1]!;
    const line = new RegExp(`^a=fmtp:${pt} (.*)$`, 'm').exec(sdp)?.[1] ?? '';
    if (!fmtp || fmtp.test(line)) return Number(pt);
  }
  throw new Error(`no ${codec}`);
}

describe('WHIP offers', () => {
  it("keeps only Chromium's constrained-baseline H.264 (mode 1) and Opus formats", () => {
    const o = parseWhipOffer(chromium);
    const h264 = ptOf(chromium, 'H264', /packetization-mode=1;profile-level-id=42e01f/);
    const opus = ptOf(chromium, 'opus');
    expect(o.video).toMatchObject({ mid: '0', payloadType: h264 });
    expect(o.audio).toMatchObject({ mid: '1', payloadType: opus });
    const media = o.sdp.split('\r\n').filter((l) => l.startsWith('m='));
    expect(media).toEqual([`m=video 9 UDP/TLS/RTP/SAVPF ${h264}`, `m=audio 9 UDP/TLS/RTP/SAVPF ${opus}`]);
    expect(o.sdp.match(/^a=rtpmap:.*$/gm)).toEqual([
      `a=rtpmap:${h264} H264/90000`,
      `a=rtpmap:${opus} opus/48000/2`,
    ]);
    // No RTX, no transport-wide congestion control (the ingest answers neither).
    expect(o.sdp).not.toMatch(/ssrc-group:FID|transport-cc|transport-wide-cc/);
    expect(o.sdp).toMatch(new RegExp(`^a=rtcp-fb:${h264} nack pli$`, 'm'));
    // Everything else is kept as offered: ICE credentials, fingerprint, the primary SSRC.
    for (const kept of [/^a=ice-ufrag:/m, /^a=fingerprint:/m, /^a=sendonly$/m, /^a=group:BUNDLE 0 1$/m]) {
      expect(o.sdp).toMatch(kept);
    }
    const primary = /^a=ssrc-group:FID (\d+) (\d+)/m.exec(chromium)!;
    expect(o.sdp).toContain(`a=ssrc:${primary[1]} `);
    expect(o.sdp).not.toContain(`a=ssrc:${primary[2]} `);
    expect(o.sdp.endsWith('\r\n')).toBe(true);
  });

  it('prefers constrained baseline, then baseline, then other profiles; mode 0 is unusable', () => {
    expect(h264SendRank('level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f')).toBe(3);
    expect(h264SendRank('packetization-mode=1;profile-level-id=42001f')).toBe(2);
    expect(h264SendRank('packetization-mode=1;profile-level-id=640c1f')).toBe(1);
    expect(h264SendRank('packetization-mode=0;profile-level-id=42e01f')).toBe(-1);
    expect(h264SendRank(undefined)).toBe(-1);
  });

  it('refuses a VP8-only offer (406 CODEC_UNSUPPORTED, naming what was offered) and audio without Opus', () => {
    const vp8 = chromium.replace(/^m=video (\S+) (\S+) .*$/m, 'm=video $1 $2 96 97');
    const e = code(() => parseWhipOffer(vp8));
    expect(e).toMatchObject({ code: 'CODEC_UNSUPPORTED', status: 406 });
    expect(e.message).toContain('has VP8.');
    const mode0 = chromium.replace(
      /^m=video (\S+) (\S+) .*$/m,
      `m=video $1 $2 ${ptOf(chromium, 'H264', /packetization-mode=0/)}`,
    );
    expect(code(() => parseWhipOffer(mode0)).code).toBe('CODEC_UNSUPPORTED');
    const pcmu = chromium.replace(/^m=audio (\S+) (\S+) .*$/m, 'm=audio $1 $2 0 8');
    expect(code(() => parseWhipOffer(pcmu))).toMatchObject({
      code: 'CODEC_UNSUPPORTED',
      message: expect.stringContaining('Opus'),
    });
  });

  it('refuses what is not a publishing offer with 400 BAD_SDP', () => {
    for (const bad of [
      '',
      'hello',
      'v=0\r\n',
      chromium.replace(/^a=sendonly$/gm, 'a=recvonly'),
      chromium.replace(/^a=mid:0\r\n/m, ''),
      chromium + chromium.slice(chromium.indexOf('m=video')),
      'v=0\r\n' + 'a=x:' + 'y'.repeat(MAX_WHIP_OFFER_BYTES),
    ]) {
      expect(code(() => parseWhipOffer(bad))).toMatchObject({ code: 'BAD_SDP', status: 400 });
    }
  });

  it('takes a video-only offer (no microphone)', () => {
    const videoOnly = chromium
      .slice(0, chromium.indexOf('m=audio'))
      .replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0');
    const o = parseWhipOffer(videoOnly);
    expect(o.audio).toBeUndefined();
    expect(o.sdp).not.toContain('m=audio');
  });
});
