import { describe, expect, it } from 'vitest';
import { isAirError, type ErrorCode } from '../../../shared/errors.ts';
import { H264Depacketizer } from '../rtp/h264-packetizer.ts';
import { depacketizeOpus, opusPacketSamples } from '../rtp/opus.ts';
import { RtpPacket } from '../rtp/packet.ts';
import {
  canonicalHeaderName,
  controlOfUri,
  formatTransport,
  interleavedFrame,
  parseSessionHeader,
  parseTransport,
  pathOfUri,
  requestCredentials,
  RtspParser,
  serializeRequest,
  serializeResponse,
  type RtspItem,
  type RtspRequest,
} from './message.ts';
import { clientBytes, serverBytes, CAPTURES } from './testdata/captures.ts';

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function expectError(code: ErrorCode, f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(isAirError(e, code), String(e)).toBe(true);
    return;
  }
  throw new Error(`expected ${code}`);
}

/** Serialises parsed items back into wire bytes. */
function serialize(items: readonly RtspItem[]): Uint8Array {
  return Buffer.concat(
    items.map((i) => {
      if (i.type === 'request') return serializeRequest(i.request);
      if (i.type === 'response') return serializeResponse(i.response);
      return interleavedFrame(i.channel, i.data);
    }),
  );
}

const parseAll = (b: Uint8Array): RtspItem[] => new RtspParser().push(b);
const requests = (items: readonly RtspItem[]): RtspRequest[] =>
  items.flatMap((i) => (i.type === 'request' ? [i.request] : []));

/** A comparable rendering of parsed items. */
function summary(items: readonly RtspItem[]): string[] {
  return items.map((i) => {
    if (i.type === 'interleaved') return `$${i.channel}:${Buffer.from(i.data).toString('hex')}`;
    const m = i.type === 'request' ? i.request : i.response;
    const start =
      i.type === 'request'
        ? `${i.request.method} ${i.request.uri}`
        : `${i.response.status} ${i.response.reason}`;
    return `${start} ${JSON.stringify([...m.headers])} ${Buffer.from(m.body).toString('hex')}`;
  });
}

describe('RtspParser on captured sessions', () => {
  it('reads ffmpeg publishing: OPTIONS, ANNOUNCE with its SDP, SETUP ×2, RECORD, RTP, TEARDOWN', () => {
    const items = parseAll(clientBytes('ffmpeg-h264-aac'));
    expect(requests(items).map((r) => r.method)).toEqual([
      'OPTIONS',
      'ANNOUNCE',
      'SETUP',
      'SETUP',
      'RECORD',
      'TEARDOWN',
    ]);
    const [, announce, setup1, setup2, record] = requests(items);
    expect(announce!.headers.get('content-type')).toBe('application/sdp');
    expect(announce!.body.length).toBe(Number(announce!.headers.get('content-length')));
    expect(new TextDecoder().decode(announce!.body)).toMatch(/^v=0\r\n[^]*a=control:streamid=1\r\n$/);
    expect(setup1!.headers.get('transport')).toBe('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record');
    for (const setup of [setup1!, setup2!]) {
      const v = setup.headers.get('transport')!;
      expect(formatTransport(parseTransport(v)[0]!)).toBe(v);
    }
    expect(parseTransport(setup2!.headers.get('transport')!)[0]!.mode).toBe('record');
    expect(setup2!.headers.get('session')).toBe('12345678');
    expect(record!.headers.get('range')).toBe('npt=0.000-');
    expect(pathOfUri(setup1!.uri)).toBe('live/x');
    expect(controlOfUri(setup2!.uri)).toBe('streamid=1');
    expect(controlOfUri(record!.uri)).toBeUndefined();
    const channels = new Set(items.flatMap((i) => (i.type === 'interleaved' ? [i.channel] : [])));
    expect([...channels].sort()).toEqual([0, 1, 2, 3]);
    // The last item is TEARDOWN: everything between RECORD and it is interleaved.
    expect(items.at(-1)!.type).toBe('request');
  });

  it('reads ffprobe playing: ffmpeg appends the control after the query', () => {
    const reqs = requests(parseAll(clientBytes('ffprobe-play')));
    expect(reqs.map((r) => r.method)).toEqual(['OPTIONS', 'DESCRIBE', 'SETUP', 'SETUP', 'PLAY', 'TEARDOWN']);
    expect(reqs[1]!.headers.get('accept')).toBe('application/sdp');
    expect(reqs[2]!.uri).toMatch(/\/live\/x\?token=secret\/trackID=0$/);
    for (const r of reqs) {
      expect(pathOfUri(r.uri)).toBe('live/x');
      expect(requestCredentials(r)).toBe('secret');
    }
    expect(reqs.map((r) => controlOfUri(r.uri))).toEqual([
      undefined,
      undefined,
      'trackID=0',
      'trackID=1',
      undefined,
      undefined,
    ]);
    expect(parseTransport(reqs[3]!.headers.get('transport')!)).toEqual([
      { protocol: 'RTP/AVP/TCP', unicast: true, interleaved: [2, 3] },
    ]);
  });

  it('reads the responses and RTP a server sends a player', () => {
    const items = parseAll(serverBytes('ffprobe-play'));
    const responses = items.flatMap((i) => (i.type === 'response' ? [i.response] : []));
    expect(responses.map((r) => [r.status, r.reason, r.headers.get('cseq')])).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) => [200, 'OK', String(n)]),
    );
    expect(new TextDecoder().decode(responses[1]!.body)).toMatch(/^v=0\r\n/);
    expect(parseSessionHeader(responses[2]!.headers.get('session')!)).toEqual({
      id: '12345678',
      timeout: 60,
    });
    expect(parseTransport(responses[2]!.headers.get('transport')!)[0]!.ssrc).toBe(0x1a2b3c4e);
  });

  for (const name of CAPTURES) {
    it(`serializes ${name} back to the captured bytes, both directions`, () => {
      for (const bytes of [clientBytes(name), serverBytes(name)]) {
        const back = serialize(parseAll(bytes));
        expect(back.length).toBe(bytes.length);
        expect(same(back, bytes)).toBe(true);
      }
    });
  }

  it('gives the same items at every split point of a captured stream with interleaved frames', () => {
    // The requests and the first interleaved frames of ffmpeg's publish, and the responses
    // (DESCRIBE's SDP among them) and first frames a player got, split at every byte.
    const head = (b: Uint8Array, after: string): Uint8Array =>
      b.subarray(0, Buffer.from(b).indexOf('$', Buffer.from(b).indexOf(after)) + 6000);
    const streams = [
      head(clientBytes('ffmpeg-h264-aac'), 'RECORD '),
      head(serverBytes('ffprobe-play'), 'CSeq: 5'),
      clientBytes('ffprobe-play'),
    ];
    for (const bytes of streams) {
      const expected = summary(parseAll(bytes));
      expect(expected.length).toBeGreaterThan(5);
      for (let k = 0; k <= bytes.length; k++) {
        const p = new RtspParser();
        const items = [...p.push(bytes.subarray(0, k)), ...p.push(bytes.subarray(k))];
        if (summary(items).join('\n') !== expected.join('\n')) expect(summary(items)).toEqual(expected);
      }
    }
  });

  it('parses whole captures fed byte by byte and in odd-sized chunks', () => {
    for (const bytes of [clientBytes('ffmpeg-h264-aac'), serverBytes('ffprobe-play')]) {
      const expected = summary(parseAll(bytes));
      for (const step of [1, 3, 1000, 4097]) {
        const p = new RtspParser();
        const items: RtspItem[] = [];
        for (let i = 0; i < bytes.length; i += step) items.push(...p.push(bytes.subarray(i, i + step)));
        expect(summary(items)).toEqual(expected);
      }
    }
  });

  it('returns data that does not alias its buffer', () => {
    const p = new RtspParser();
    const frame = interleavedFrame(4, Uint8Array.of(1, 2, 3));
    const [a] = p.push(frame);
    p.push(interleavedFrame(4, Uint8Array.of(9, 9, 9)));
    expect(a).toEqual({ type: 'interleaved', channel: 4, data: Uint8Array.of(1, 2, 3) });
  });
});

describe('interleaved RTP of the captures', () => {
  const rtp = (name: 'ffmpeg-h264-aac' | 'ffmpeg-h264-opus', channel: number): RtpPacket[] =>
    parseAll(clientBytes(name)).flatMap((i) =>
      i.type === 'interleaved' && i.channel === channel ? [RtpPacket.parse(i.data)] : [],
    );

  it('depacketizes 1 s of 30 fps H.264 into 30 access units, 3000 ticks apart, keyframe first', () => {
    const d = new H264Depacketizer();
    const aus = rtp('ffmpeg-h264-aac', 0).flatMap((p) => d.process(p));
    expect(aus.length).toBe(30);
    expect(aus[0]!.key).toBe(true);
    expect(aus.filter((a) => a.key).length).toBe(1); // -g 30
    for (let i = 1; i < aus.length; i++) expect((aus[i]!.timestamp - aus[i - 1]!.timestamp) >>> 0).toBe(3000);
  });

  it('reads 1 s of 20 ms Opus packets with timestamps 960 apart', () => {
    const pkts = rtp('ffmpeg-h264-opus', 2);
    expect(pkts.length).toBeGreaterThanOrEqual(50);
    expect(pkts.length).toBeLessThanOrEqual(52);
    for (let i = 1; i < pkts.length; i++) {
      const samples = opusPacketSamples(depacketizeOpus(pkts[i - 1]!.payload));
      expect(samples).toBe(960);
      expect((pkts[i]!.timestamp - pkts[i - 1]!.timestamp) >>> 0).toBe(samples);
      expect((pkts[i]!.sequenceNumber - pkts[i - 1]!.sequenceNumber) & 0xffff).toBe(1);
    }
  });
});

describe('RtspParser errors', () => {
  const cases: [string, ErrorCode, string | Uint8Array][] = [
    ['a bad request line', 'RTSP_PROTOCOL', 'OPTIONS\r\nCSeq: 1\r\n\r\n'],
    ['a request line with extra spaces', 'RTSP_PROTOCOL', 'OPTIONS  rtsp://h/ RTSP/1.0\r\n\r\n'],
    ['an HTTP request', 'RTSP_PROTOCOL', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['RTSP/2.0', 'RTSP_PROTOCOL', 'OPTIONS rtsp://h/ RTSP/2.0\r\nCSeq: 1\r\n\r\n'],
    ['a response of another version', 'RTSP_PROTOCOL', 'RTSP/2.0 200 OK\r\nCSeq: 1\r\n\r\n'],
    ['a bad status line', 'RTSP_PROTOCOL', 'RTSP/1.0 OK\r\n\r\n'],
    ['a header without a colon', 'RTSP_PROTOCOL', 'OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq 1\r\n\r\n'],
    ['a header with a bad name', 'RTSP_PROTOCOL', 'OPTIONS rtsp://h/ RTSP/1.0\r\nC Seq: 1\r\n\r\n'],
    [
      'a negative Content-Length',
      'RTSP_PROTOCOL',
      'ANNOUNCE rtsp://h/ RTSP/1.0\r\nContent-Length: -1\r\n\r\n',
    ],
    [
      'a Content-Length of letters',
      'RTSP_PROTOCOL',
      'ANNOUNCE rtsp://h/ RTSP/1.0\r\nContent-Length: 1a\r\n\r\n',
    ],
    [
      'two different Content-Lengths',
      'RTSP_PROTOCOL',
      'X rtsp://h/ RTSP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    ],
    [
      'a body over the limit',
      'RTSP_TOO_LARGE',
      'ANNOUNCE rtsp://h/ RTSP/1.0\r\nContent-Length: 65537\r\n\r\n',
    ],
    ['a huge header block', 'RTSP_TOO_LARGE', `OPTIONS rtsp://h/ RTSP/1.0\r\nX-Pad: ${'a'.repeat(9000)}`],
  ];
  for (const [what, code, input] of cases) {
    it(`throws ${code} on ${what}, and again after`, () => {
      const p = new RtspParser();
      const bytes = typeof input === 'string' ? text(input) : input;
      expectError(code, () => p.push(bytes));
      expectError(code, () => p.push(text('OPTIONS rtsp://h/ RTSP/1.0\r\n\r\n')));
    });
  }

  it('detects a huge header block arriving a byte at a time, before the limit is far exceeded', () => {
    const p = new RtspParser({ maxHeaderBytes: 100 });
    const bytes = text(`OPTIONS rtsp://h/ RTSP/1.0\r\nX: ${'a'.repeat(200)}`);
    let fed = 0;
    expectError('RTSP_TOO_LARGE', () => {
      for (; fed < bytes.length; fed++) p.push(bytes.subarray(fed, fed + 1));
    });
    expect(fed).toBe(100);
  });

  it('enforces the interleaved frame limit', () => {
    const p = new RtspParser({ maxInterleavedBytes: 1500 });
    expect(p.push(interleavedFrame(0, new Uint8Array(1500)))[0]!.type).toBe('interleaved');
    expectError('RTSP_TOO_LARGE', () => p.push(interleavedFrame(0, new Uint8Array(1501)).subarray(0, 4)));
  });

  it('accepts bare LF line ends, folded headers and repeated headers', () => {
    const [item] = new RtspParser().push(
      text(
        '\r\nSET_PARAMETER rtsp://h/live/x RTSP/1.0\nCSeq: 7\nX-A: 1\nX-A:  2 \nX-B: a\n  b\nContent-Length: 2\n\nhi',
      ),
    );
    expect(item).toEqual({
      type: 'request',
      request: {
        method: 'SET_PARAMETER',
        uri: 'rtsp://h/live/x',
        headers: new Map([
          ['cseq', '7'],
          ['x-a', '1, 2'],
          ['x-b', 'a b'],
          ['content-length', '2'],
        ]),
        body: text('hi'),
      },
    });
  });
});

describe('serializeRequest / serializeResponse', () => {
  it('writes canonical header names and adds Content-Length for a body', () => {
    const body = text('v=0\r\n');
    const out = serializeResponse({
      status: 200,
      headers: {
        cseq: '2',
        'content-type': 'application/sdp',
        'content-base': 'rtsp://h/live/x/',
        'rtp-info': 'url=trackID=0;seq=1;rtptime=0',
        'www-authenticate': 'Bearer',
        public: 'OPTIONS',
        transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
        session: '1;timeout=60',
      },
      body,
    });
    expect(new TextDecoder().decode(out)).toBe(
      'RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Base: rtsp://h/live/x/\r\n' +
        'RTP-Info: url=trackID=0;seq=1;rtptime=0\r\nWWW-Authenticate: Bearer\r\nPublic: OPTIONS\r\n' +
        'Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 1;timeout=60\r\nContent-Length: 5\r\n\r\nv=0\r\n',
    );
  });

  it('takes the reason from the status and accepts header pairs', () => {
    const out = serializeResponse({ status: 461, headers: [['CSeq', '3']] });
    expect(new TextDecoder().decode(out)).toBe('RTSP/1.0 461 Unsupported transport\r\nCSeq: 3\r\n\r\n');
    const req = serializeRequest({ method: 'GET_PARAMETER', uri: 'rtsp://h/live/x', headers: { CSeq: '9' } });
    expect(new TextDecoder().decode(req)).toBe('GET_PARAMETER rtsp://h/live/x RTSP/1.0\r\nCSeq: 9\r\n\r\n');
  });

  it('refuses header injection', () => {
    expectError('RTSP_PROTOCOL', () => serializeResponse({ status: 200, headers: { CSeq: '1\r\nX: y' } }));
    expectError('RTSP_PROTOCOL', () => serializeRequest({ method: 'PLAY', uri: 'rtsp://h/ x', headers: {} }));
  });

  it('spells header names canonically', () => {
    expect(
      ['cseq', 'CONTENT-LENGTH', 'user-agent', 'rtp-info', 'x-accept-dynamic-rate'].map(canonicalHeaderName),
    ).toEqual(['CSeq', 'Content-Length', 'User-Agent', 'RTP-Info', 'X-Accept-Dynamic-Rate']);
  });
});

describe('Transport', () => {
  it('reads the alternatives ffmpeg offers over UDP, and formats them back', () => {
    const v = 'RTP/AVP/UDP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;interleaved=0-1;mode="PLAY"';
    expect(parseTransport(v)).toEqual([
      { protocol: 'RTP/AVP', unicast: true, clientPort: [5000, 5001] },
      { protocol: 'RTP/AVP/TCP', unicast: true, interleaved: [0, 1], mode: 'PLAY' },
    ]);
    const t = {
      protocol: 'RTP/AVP/TCP',
      unicast: true,
      interleaved: [0, 1],
      ssrc: 0x1a2b3c4d,
    } as const satisfies Parameters<typeof formatTransport>[0];
    expect(formatTransport({ ...t, interleaved: [0, 1] })).toBe(
      'RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=1A2B3C4D',
    );
    const udp = {
      protocol: 'RTP/AVP',
      unicast: true,
      clientPort: [5000, 5001],
      serverPort: [6000, 6001],
    } as const;
    const back = parseTransport(
      formatTransport({ ...udp, clientPort: [5000, 5001], serverPort: [6000, 6001] }),
    );
    expect(back).toEqual([udp]);
  });

  it('skips other profiles, reads a single channel and multicast', () => {
    expect(parseTransport('RTP/SAVP;unicast;client_port=1-2')).toEqual([]);
    expect(parseTransport('RTP/AVP/TCP;interleaved=4')).toEqual([
      { protocol: 'RTP/AVP/TCP', unicast: true, interleaved: [4, 5] },
    ]);
    expect(parseTransport('RTP/AVP;multicast;ttl=4;destination=224.2.0.1')[0]!.unicast).toBe(false);
  });

  for (const v of [
    '',
    'garbage here',
    'RTP/AVP/TCP;interleaved=a-b',
    'RTP/AVP;client_port=70000-70001',
    'RTP/AVP;ssrc=xyz',
  ]) {
    it(`throws RTSP_PROTOCOL on ${JSON.stringify(v)}`, () =>
      expectError('RTSP_PROTOCOL', () => parseTransport(v)));
  }
});

describe('Session, credentials and URIs', () => {
  it('parses Session headers', () => {
    expect(parseSessionHeader('12345678')).toEqual({ id: '12345678' });
    expect(parseSessionHeader(' abc-1;timeout=30 ')).toEqual({ id: 'abc-1', timeout: 30 });
    expectError('RTSP_PROTOCOL', () => parseSessionHeader(''));
    expectError('RTSP_PROTOCOL', () => parseSessionHeader('a;timeout=x'));
  });

  const req = (uri: string, authorization?: string): RtspRequest => ({
    method: 'DESCRIBE',
    uri,
    headers: new Map(authorization ? [['authorization', authorization]] : []),
    body: new Uint8Array(0),
  });

  it('finds the token in the query, a Bearer or a Basic header', () => {
    const basic = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;
    expect(requestCredentials(req('rtsp://h/live/x?token=a.b.c'))).toBe('a.b.c');
    expect(requestCredentials(req('rtsp://h/live/x?jwt=j1/trackID=0'))).toBe('j1');
    expect(requestCredentials(req('rtsp://h/live/x?token=q', 'Bearer b'))).toBe('q');
    expect(requestCredentials(req('rtsp://h/live/x', 'Bearer b'))).toBe('b');
    expect(requestCredentials(req('rtsp://h/live/x', basic('user:pa:ss')))).toBe('pa:ss');
    expect(requestCredentials(req('rtsp://h/live/x', basic('tok:')))).toBe('tok');
    expect(requestCredentials(req('rtsp://h/live/x', 'Digest username="a"'))).toBeUndefined();
    expect(requestCredentials(req('rtsp://h/live/x'))).toBeUndefined();
  });

  it('takes the stream path and control out of URIs', () => {
    expect(pathOfUri('rtsp://host:8554/live/abc/trackID=0?token=x')).toBe('live/abc');
    expect(controlOfUri('rtsp://host:8554/live/abc/trackID=0?token=x')).toBe('trackID=0');
    expect(pathOfUri('rtsp://[::1]:554/live/abc')).toBe('live/abc');
    expect(controlOfUri('rtsp://host/live/abc/')).toBeUndefined();
    expect(pathOfUri('rtsp://host/live')).toBeUndefined();
    expect(pathOfUri('rtsp://host/live/a%20b')).toBeUndefined();
    expect(pathOfUri(`rtsp://host/live/${'a'.repeat(129)}`)).toBeUndefined();
    expect(pathOfUri('/live/abc')).toBe('live/abc');
  });
});
