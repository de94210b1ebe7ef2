import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import { ChunkParser } from '../rtmp/chunk.ts';
import { chunkStream } from '../rtmp/testdata/captures.ts';
import { decodeAmf0, ECMA_ARRAY, ecmaArray, encodeAmf0, type Amf0Object, type Amf0Value } from './amf0.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function expectProtocolError(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(isAirError(e, 'RTMP_PROTOCOL')).toBe(true);
    return;
  }
  throw new Error('expected an RTMP_PROTOCOL error');
}

describe('AMF0', () => {
  it('encodes each type as the spec lays it out', () => {
    expect(encodeAmf0([1])).toEqual(hex('00 3ff0000000000000'));
    expect(encodeAmf0([true, false])).toEqual(hex('0101 0100'));
    expect(encodeAmf0(['ab'])).toEqual(hex('02 0002 6162'));
    expect(encodeAmf0([null, undefined])).toEqual(hex('05 06'));
    expect(encodeAmf0([{ a: 1 }])).toEqual(hex('03 0001 61 00 3ff0000000000000 000009'));
    expect(encodeAmf0([ecmaArray({ a: true })])).toEqual(hex('08 00000001 0001 61 0101 000009'));
    expect(encodeAmf0([[1, 'x']])).toEqual(hex('0a 00000002 00 3ff0000000000000 02 0001 78'));
    expect(encodeAmf0([new Date(0)])).toEqual(hex('0b 0000000000000000 0000'));
  });

  it('round-trips every type, nested', () => {
    const long = 'ü'.repeat(40_000); // 80 000 UTF-8 bytes: a long string
    const values: Amf0Value[] = [
      -2.5,
      true,
      'hello 안녕',
      long,
      null,
      undefined,
      new Date(1_700_000_000_000),
      { a: { b: [1, { c: null }] }, d: ecmaArray({ e: 'f' }) },
      [],
      ecmaArray({}, 0),
    ];
    const bytes = encodeAmf0(values);
    expect(bytes[bytes.indexOf(0x0c)]).toBe(0x0c);
    const back = decodeAmf0(bytes);
    expect(back).toEqual(values);
    expect(Buffer.compare(encodeAmf0(back), bytes)).toBe(0);
  });

  it('keeps the declared count of an ECMA array', () => {
    const v = decodeAmf0(hex('08 00000000 0001 61 0101 000009'))[0] as Amf0Object;
    expect(v[ECMA_ARRAY]).toBe(0);
    expect(v.a).toBe(true);
    expect(encodeAmf0([v])).toEqual(hex('08 00000000 0001 61 0101 000009'));
  });

  it("round-trips ffmpeg's connect, publish and onMetaData byte for byte", () => {
    const msgs = new ChunkParser().process(chunkStream('ffmpeg-publish.bin'));
    const amf = msgs.filter((m) => m.typeId === 20 || m.typeId === 18);
    expect(amf.length).toBeGreaterThan(6);
    for (const m of amf) expect(encodeAmf0(decodeAmf0(m.payload))).toEqual(m.payload);

    const [name, tid, cmd] = decodeAmf0(amf[0]!.payload);
    expect([name, tid]).toEqual(['connect', 1]);
    expect(cmd).toMatchObject({ app: 'live', type: 'nonprivate', tcUrl: 'rtmp://127.0.0.1:19350/live' });
    const publish = amf.map((m) => decodeAmf0(m.payload)).find((v) => v[0] === 'publish')!;
    expect(publish.slice(2)).toEqual([null, 'test?token=good', 'live']);
    const meta = amf.map((m) => decodeAmf0(m.payload)).find((v) => v[0] === '@setDataFrame')!;
    expect(meta[1]).toBe('onMetaData');
    const md = meta[2] as Amf0Object;
    expect(md[ECMA_ARRAY]).toBe(13);
    expect(md).toMatchObject({ width: 160, height: 120, framerate: 10, videocodecid: 7, audiocodecid: 10 });
    expect(md.audiosamplerate).toBe(48000);
  });

  it('rejects truncated input, unknown markers and bad object ends', () => {
    expectProtocolError(() => decodeAmf0(hex('00 3ff0')));
    expectProtocolError(() => decodeAmf0(hex('02 0005 6162')));
    expectProtocolError(() => decodeAmf0(hex('07 0001'))); // reference
    expectProtocolError(() => decodeAmf0(hex('11'))); // AMF3 switch
    expectProtocolError(() => decodeAmf0(hex('03 0000 05'))); // empty key not followed by 0x09
    expectProtocolError(() => decodeAmf0(hex('0a ffffffff 05'))); // count beyond the input
  });

  it('bounds depth, size and value count', () => {
    const deep = new Uint8Array(200).fill(0x0a, 0, 200);
    const nested: number[] = [];
    for (let i = 0; i < 40; i++) nested.push(0x0a, 0, 0, 0, 1);
    nested.push(0x05);
    expectProtocolError(() => decodeAmf0(Uint8Array.from(nested)));
    expect(decodeAmf0(Uint8Array.from(nested), { maxDepth: 64 })).toHaveLength(1);
    expectProtocolError(() => decodeAmf0(deep, { maxBytes: 100 }));
    expectProtocolError(() => decodeAmf0(new Uint8Array(100).fill(0x05), { maxValues: 50 }));
  });

  it('decodes a __proto__ key as plain data', () => {
    const bytes = encodeAmf0([{ x: 1 }]);
    const evil = hex(
      Buffer.from(bytes)
        .toString('hex')
        .replace('000178', '0009' + Buffer.from('__proto__').toString('hex')),
    );
    const v = decodeAmf0(evil)[0] as Amf0Object;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
  });
});
