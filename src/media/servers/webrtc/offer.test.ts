import { readFileSync } from 'node:fs';
import ndc from 'node-datachannel';
import { afterAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection } from 'werift';
import { makeOffer } from '../../../../test/helpers/werift-viewer.ts';
import { AirError, isAirError, type ErrorCode } from '../../../shared/errors.ts';
import { announceCandidates, H264_FMTP, MAX_OFFER_BYTES, parseOffer, parseTrickle } from './offer.ts';

/**
 * The offer, trickle and answer helpers on what real peers write: Chromium's and werift's
 * offers, Chromium's trickled candidates and node-datachannel's answer, captured by
 * fixtures/capture.ts (see there how).
 */

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const chromium = fixture('chromium-offer.sdp');
const werift = fixture('werift-offer.sdp');
const answer = fixture('libdatachannel-answer.sdp');
const chromiumCandidates = fixture('chromium-candidates.txt')
  .split('\n')
  .filter(Boolean)
  .map((l) => {
    const i = l.indexOf(' ');
    return { mid: l.slice(0, i), candidate: l.slice(i + 1) };
  });

/** The error `fn` throws (fails the test when it does not throw). */
function thrown(fn: () => unknown): AirError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AirError);
    return e as AirError;
  }
  throw new Error('expected an error');
}

function expectAirError(fn: () => unknown, code: ErrorCode, status: number): AirError {
  const e = thrown(fn);
  expect(isAirError(e, code)).toBe(true);
  expect(e.status).toBe(status);
  return e;
}

/** The payload type whose fmtp line in `sdp` has all of `params`. */
function ptWith(sdp: string, ...params: string[]): number {
  for (const m of sdp.matchAll(/^a=fmtp:(\d+) (.*)$/gm)) {
    const p = m[2]!.trim().split(';');
    if (params.every((x) => p.includes(x))) return Number(m[1]);
  }
  throw new Error(`no fmtp with ${params.join(';')}`);
}

/** `sdp` without the lines of payload type `pt` (rtpmap, fmtp, rtcp-fb) and without it on the m= line. */
function withoutPt(sdp: string, pt: number): string {
  return sdp
    .split('\r\n')
    .filter((l) => !new RegExp(`^a=(rtpmap|fmtp|rtcp-fb):${pt}( |$)`).test(l))
    .map((l) => (l.startsWith('m=') ? l.replace(new RegExp(` ${pt}(?= |$)`), '') : l))
    .join('\r\n');
}

/** The media sections of an SDP (index 0 is the session part). */
function splitSections(sdp: string): string[] {
  return sdp.split(/\r\n(?=m=)/);
}

describe('parseOffer', () => {
  it("answers Chromium's offer with H.264 constrained baseline, mode 1, and Opus, on Chromium's payload types", () => {
    const p = parseOffer(chromium);
    // Chromium offers H.264 as 42001f and 42e01f, 4d001f and f4001f, each in modes 1 and 0.
    const cb1 = ptWith(chromium, 'profile-level-id=42e01f', 'packetization-mode=1');
    expect(p.video).toEqual({ mid: '0', payloadType: cb1, fmtp: H264_FMTP });
    const opus = Number(/^a=rtpmap:(\d+) opus\/48000\/2$/m.exec(chromium)![1]);
    expect(p.audio?.mid).toBe('1');
    expect(p.audio?.payloadType).toBe(opus);
    expect(p.audio?.fmtp).toMatch(/useinbandfec=1/);
  });

  it("answers werift's offer (one H.264 and one Opus format) on werift's payload types", () => {
    const p = parseOffer(werift);
    expect(p.video).toEqual({ mid: '0', payloadType: 97, fmtp: H264_FMTP });
    expect(p.audio).toMatchObject({ mid: '1', payloadType: 96 });
  });

  it('reads an offer with LF line ends and upper-case fmtp values', () => {
    const p = parseOffer(werift.replace(/\r\n/g, '\n').replace('42e01f', '42E01F'));
    expect(p.video.payloadType).toBe(97);
  });

  it('prefers constrained baseline 42e0xx over other 42xx profiles wherever it is in the m= line', () => {
    const cb1 = ptWith(chromium, 'profile-level-id=42e01f', 'packetization-mode=1');
    const b1 = ptWith(chromium, 'profile-level-id=42001f', 'packetization-mode=1');
    // Put the constrained-baseline format last.
    const last = chromium.replace(/^(m=video \S+ \S+)(.*)$/m, (_, head: string, fmts: string) => {
      const list = fmts
        .trim()
        .split(' ')
        .filter((f) => f !== String(cb1));
      return `${head} ${[...list, cb1].join(' ')}`;
    });
    expect(parseOffer(last).video.payloadType).toBe(cb1);
    // Without it, baseline 42001f (mode 1) comes before main (4d001f) and high (f4001f).
    expect(parseOffer(withoutPt(chromium, cb1)).video.payloadType).toBe(b1);
  });

  it('keeps the payload type the viewer gave, not a number it assumes', () => {
    // Swap the numbers of the 42e01f and 42001f formats: the choice follows the profile.
    const cb1 = ptWith(chromium, 'profile-level-id=42e01f', 'packetization-mode=1');
    const b1 = ptWith(chromium, 'profile-level-id=42001f', 'packetization-mode=1');
    const swapped = chromium.replace(
      /^(a=(?:rtpmap|fmtp|rtcp-fb):)(\d+)( .*)$/gm,
      (l, a: string, pt, rest) => {
        if (Number(pt) === cb1) return `${a}${b1}${rest}`;
        if (Number(pt) === b1) return `${a}${cb1}${rest}`;
        return l;
      },
    );
    expect(parseOffer(swapped).video.payloadType).toBe(b1);
    // A payload type from the dynamic range the fixture does not use.
    expect(parseOffer(werift.replace(/(?<=[: ])97(?=[ \r])/g, '123')).video.payloadType).toBe(123);
  });

  it('takes main or high profile mode 1 when level asymmetry is allowed and nothing 42xx is offered', () => {
    let sdp = chromium;
    for (const prof of ['42001f', '42e01f']) {
      sdp = withoutPt(sdp, ptWith(sdp, `profile-level-id=${prof}`, 'packetization-mode=1'));
    }
    const main = ptWith(chromium, 'profile-level-id=4d001f', 'packetization-mode=1');
    expect(parseOffer(sdp).video.payloadType).toBe(main);
  });

  it('answers video only when audio is not offered, or offered without Opus', () => {
    const [session, video] = splitSections(chromium);
    const videoOnly = `${session!.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0')}\r\n${video}\r\n`;
    const p = parseOffer(videoOnly);
    expect(p.video.mid).toBe('0');
    expect('audio' in p).toBe(false);

    const opus = Number(/^a=rtpmap:(\d+) opus\/48000\/2$/m.exec(chromium)![1]);
    // Opus and the RED format that wraps it gone: PCMU, PCMA, G722 remain.
    const red = Number(/^a=rtpmap:(\d+) red\/48000\/2$/m.exec(chromium)![1]);
    const noOpus = parseOffer(withoutPt(withoutPt(chromium, opus), red));
    expect(noOpus.audio).toBeUndefined();
  });

  it('ignores sendonly and inactive sections', () => {
    const [session, video, audio] = splitSections(werift);
    // A sendonly video section first (a publisher's), then the recvonly one.
    const sendonly = video!.replace('a=recvonly', 'a=sendonly').replace('a=mid:0', 'a=mid:s');
    const two = [session, sendonly, video, audio].join('\r\n');
    expect(parseOffer(two).video.mid).toBe('0');
    expectAirError(() => parseOffer(werift.replace('a=recvonly', 'a=sendonly')), 'BAD_SDP', 400);
    expectAirError(() => parseOffer(werift.replace('a=recvonly', 'a=inactive')), 'BAD_SDP', 400);
    // The audio section sendonly: video is answered, audio is not.
    const audioSend = [session, video, audio!.replace('a=recvonly', 'a=sendonly')].join('\r\n');
    expect(parseOffer(audioSend).audio).toBeUndefined();
  });

  it('refuses what is not an SDP offer with BAD_SDP (400)', () => {
    for (const body of ['', 'hello', '{"sdp":"v=0"}', ' v=0\r\n', 'v=1\r\n', 'v=0']) {
      expectAirError(() => parseOffer(body), 'BAD_SDP', 400);
    }
    expectAirError(() => parseOffer(undefined as unknown as string), 'BAD_SDP', 400);
  });

  it('refuses an offer without video, without H.264, or with H.264 in mode 0 only', () => {
    const [session, , audio] = splitSections(chromium);
    expectAirError(() => parseOffer(`${session}\r\n${audio}`), 'BAD_SDP', 400);

    let noH264 = chromium;
    for (const m of chromium.matchAll(/^a=rtpmap:(\d+) H264\/90000$/gm))
      noH264 = withoutPt(noH264, Number(m[1]));
    expect(noH264).toMatch(/VP8\/90000/);
    expectAirError(() => parseOffer(noH264), 'BAD_SDP', 400);

    const mode0 = chromium.replace(/packetization-mode=1/g, 'packetization-mode=0');
    expectAirError(() => parseOffer(mode0), 'BAD_SDP', 400);
    // An H.264 format without fmtp is mode 0 (RFC 6184 §8.1).
    const noFmtp = werift.replace(/^a=fmtp:97 .*\r\n/m, '');
    expectAirError(() => parseOffer(noFmtp), 'BAD_SDP', 400);
  });

  it('refuses a video section without a mid', () => {
    const e = expectAirError(() => parseOffer(werift.replace('a=mid:0\r\n', '')), 'BAD_SDP', 400);
    expect(e.message).toMatch(/mid/);
  });

  it(`refuses an offer larger than ${MAX_OFFER_BYTES} bytes`, () => {
    const pad = 'a=x-pad:' + 'p'.repeat(100) + '\r\n';
    const big = chromium + pad.repeat(Math.ceil((MAX_OFFER_BYTES - chromium.length) / pad.length) + 1);
    expect(big.length).toBeGreaterThan(MAX_OFFER_BYTES);
    expectAirError(() => parseOffer(big), 'BAD_SDP', 400);
    // Just under the limit is read.
    const fits = chromium + pad.repeat(Math.floor((MAX_OFFER_BYTES - chromium.length) / pad.length));
    expect(parseOffer(fits).video.mid).toBe('0');
  });
});

/** A trickle-ice-sdpfrag body (RFC 8840 §9) as a WHEP client PATCHes it. */
function frag(mid: string, candidates: string[], end = true): string {
  const lines = ['a=ice-ufrag:kZ0+', 'a=ice-pwd:bQ8vA5rVh0iTq9Gz2Xc1Ns7e', 'm=audio 9 UDP/TLS/RTP/SAVPF 0'];
  lines.push(`a=mid:${mid}`, ...candidates.map((c) => `a=${c}`));
  if (end) lines.push('a=end-of-candidates');
  return lines.join('\r\n') + '\r\n';
}

describe('parseTrickle', () => {
  it("accepts Chromium's trickled candidates (mDNS host names, ufrag, network-cost) and reads the mid", () => {
    const mid0 = chromiumCandidates.filter((c) => c.mid === '0').map((c) => c.candidate);
    expect(mid0.length).toBeGreaterThan(0);
    expect(parseTrickle(frag('0', mid0))).toEqual({ mid: '0', candidates: mid0 });
  });

  it("accepts werift's candidates (IPv4 and IPv6, 25-character foundations)", () => {
    const cands = [...werift.matchAll(/^a=(candidate:.*)\r$/gm)].map((m) => m[1]!);
    expect(cands.some((c) => c.includes('fd00::') || c.includes(':'))).toBe(true);
    expect(parseTrickle(frag('1', cands))).toEqual({ mid: '1', candidates: cands });
  });

  it("accepts Chromium's srflx, relay and TCP candidate forms", () => {
    // The forms Chromium writes with STUN/TURN and TCP (not gatherable on this machine).
    const cands = [
      'candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag kZ0+ network-cost 999',
      'candidate:3348286904 1 udp 41885439 198.51.100.4 61270 typ relay raddr 203.0.113.7 rport 46154 generation 0 ufrag kZ0+ network-cost 999',
      'candidate:2999745851 1 tcp 1518280447 192.168.1.20 9 typ host tcptype active generation 0 ufrag kZ0+ network-cost 999',
    ];
    expect(parseTrickle(frag('0', cands)).candidates).toEqual(cands);
  });

  it('ignores end-of-candidates and session lines; no mid, no mid key', () => {
    expect(parseTrickle('a=end-of-candidates\r\n')).toEqual({ candidates: [] });
    expect(parseTrickle(frag('0', []))).toEqual({ mid: '0', candidates: [] });
    expect(parseTrickle('')).toEqual({ candidates: [] });
    const c = chromiumCandidates[0]!.candidate;
    expect(parseTrickle(`a=${c}\n`)).toEqual({ candidates: [c] });
  });

  it('refuses every malformed candidate line with BAD_CANDIDATE (400), even after good ones', () => {
    const good = chromiumCandidates[0]!.candidate;
    const bad = [
      'candidate:garbage here',
      'candidate:',
      'candidate:1 1 udp 2113937151 192.0.2.1 0 typ host',
      'candidate:1 1 udp 2113937151 192.0.2.1 65536 typ host',
      'candidate:1 1 udp 2113937151 192.0.2.1 99999 typ host',
      'candidate:1 1 udp 2113937151 192.0.2.1 5000 typ bogus',
      'candidate:1 1 udp 2113937151 192.0.2.1 5000',
      'candidate:1 1 sctp 2113937151 192.0.2.1 5000 typ host',
      'candidate:1 1 udp 21139371510 192.0.2.1 5000 typ host',
      'candidate:1 1000 udp 2113937151 192.0.2.1 5000 typ host',
      'candidate:1 1 udp 2113937151 192.0.2.1;rm 5000 typ host',
      'candidate:1 1 udp 2113937151 192.0.2.1 5000 typ host\rinjected',
      'candidate:' + 'f'.repeat(33) + ' 1 udp 2113937151 192.0.2.1 5000 typ host',
      'candidate:1 1 udp 2113937151 ' + 'a'.repeat(65) + '.local 5000 typ host',
    ];
    for (const b of bad) {
      const e = expectAirError(() => parseTrickle(frag('0', [good, b])), 'BAD_CANDIDATE', 400);
      expect(e.message.length).toBeLessThan(120);
    }
  });

  it('refuses too many candidates and a body that is too large', () => {
    const c = chromiumCandidates[0]!.candidate;
    expect(parseTrickle(frag('0', Array(32).fill(c))).candidates).toHaveLength(32);
    expectAirError(() => parseTrickle(frag('0', Array(33).fill(c))), 'BAD_CANDIDATE', 400);
    expectAirError(() => parseTrickle('a=x:' + 'y'.repeat(16 * 1024)), 'BAD_CANDIDATE', 400);
    expectAirError(() => parseTrickle(42 as unknown as string), 'BAD_CANDIDATE', 400);
  });
});

/** The lines of the first media section. */
function firstSection(sdp: string): string[] {
  const s = splitSections(sdp)[1]!;
  return s.split(/\r?\n/);
}

describe('announceCandidates', () => {
  const port = Number(/^a=candidate:\S+ 1 UDP \d+ \S+ (\d+) typ host/m.exec(answer)![1]);

  it("adds host candidates to the first m-section of node-datachannel's answer, before end-of-candidates", () => {
    const out = announceCandidates(answer, ['203.0.113.5', '2001:db8::5'], port);
    const first = firstSection(out);
    const end = first.indexOf('a=end-of-candidates');
    const added = first.filter((l) => /^a=candidate:\S+ 1 UDP \d+ (203\.0\.113\.5|2001:db8::5) /.test(l));
    expect(added).toHaveLength(2);
    for (const l of added) {
      expect(first.indexOf(l)).toBeLessThan(end);
      expect(l).toMatch(new RegExp(` ${port} typ host$`));
      // What a viewer's parser reads (the trickle parser applies the same grammar).
      expect(parseTrickle(l).candidates).toEqual([l.slice(2)]);
    }
    // The other sections are untouched.
    expect(splitSections(out).slice(2)).toEqual(splitSections(answer).slice(2));
    expect(out.split('\r\n').length).toBe(answer.split('\r\n').length + 2);
  });

  it('keeps CRLF line ends (and LF when the answer has LF)', () => {
    const out = announceCandidates(answer, ['203.0.113.5'], port);
    expect(out.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(out.endsWith('\r\n')).toBe(answer.endsWith('\r\n'));
    const lf = answer.replace(/\r\n/g, '\n');
    const outLf = announceCandidates(lf, ['203.0.113.5'], port);
    expect(outLf).not.toMatch(/\r/);
    expect(outLf).toMatch(/^a=candidate:\S+ 1 UDP \d+ 203\.0\.113\.5 \d+ typ host$/m);
  });

  it('adds no duplicates: an address the answer already has, twice in the list, or announced twice', () => {
    const own = /^a=candidate:\S+ 1 UDP \d+ (\S+) \d+ typ host/m.exec(answer)![1]!;
    expect(announceCandidates(answer, [own], port)).toBe(answer);
    const once = announceCandidates(answer, ['203.0.113.5', '203.0.113.5'], port);
    expect(once.match(/ 203\.0\.113\.5 /g)).toHaveLength(1);
    expect(announceCandidates(once, ['203.0.113.5'], port)).toBe(once);
    // The same address on another port is another candidate.
    expect(
      announceCandidates(answer, [own], port + 1).match(new RegExp(` ${own} ${port + 1} `, 'g')),
    ).toHaveLength(1);
  });

  it('returns the answer as is without addresses or without media sections', () => {
    expect(announceCandidates(answer, [], port)).toBe(answer);
    const noMedia = splitSections(answer)[0]!;
    expect(announceCandidates(noMedia, ['203.0.113.5'], port)).toBe(noMedia);
  });

  it('inserts before the next m-section when the first has no end-of-candidates', () => {
    const open = answer.replace('a=end-of-candidates\r\n', '');
    const out = announceCandidates(open, ['203.0.113.5'], port);
    const first = firstSection(out);
    expect(first.some((l) => / 203\.0\.113\.5 /.test(l))).toBe(true);
    expect(splitSections(out)[2]).toBe(splitSections(open)[2]);
  });

  describe('a live node-datachannel answer with announced candidates', () => {
    const closers: (() => unknown)[] = [];
    afterAll(async () => {
      for (const c of closers.reverse()) await c();
      // libdatachannel's threads stop, so this test process ends cleanly.
      ndc.cleanup();
    });

    it('is accepted by a werift viewer, which sees the announced candidate', async () => {
      const viewer: RTCPeerConnection = await makeOffer();
      closers.push(() => viewer.close());
      const offer = viewer.localDescription!.sdp;
      const parsed = parseOffer(offer);
      const pc = new ndc.PeerConnection('announce-test', { iceServers: [] });
      closers.push(() => pc.close());
      const v = new ndc.Video(parsed.video.mid, 'SendOnly');
      v.addH264Codec(parsed.video.payloadType, parsed.video.fmtp);
      v.addSSRC(0x1234, 'airclass', 'airclass-t', 'airclass-t-v');
      pc.addTrack(v);
      const gathered = new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 3000);
        pc.onGatheringStateChange((st) => {
          if (st === 'complete') {
            clearTimeout(t);
            resolve();
          }
        });
      });
      pc.setRemoteDescription(offer, 'offer');
      await gathered;
      const local = pc.localDescription()!.sdp;
      const p = Number(/^a=candidate:\S+ \d+ udp \d+ \S+ (\d+) typ host/im.exec(local)![1]);
      const out = announceCandidates(local, ['198.51.100.77'], p);
      await viewer.setRemoteDescription({ type: 'answer', sdp: out });
      const remote = viewer.remoteDescription!.sdp;
      expect(remote).toMatch(
        new RegExp(`a=candidate:\\S+ 1 udp \\d+ 198\\.51\\.100\\.77 ${p} typ host`, 'i'),
      );
    });
  });
});
