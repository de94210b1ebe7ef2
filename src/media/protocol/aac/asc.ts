import { AirError } from '../../../shared/errors.ts';

/**
 * MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), the AAC decoder configuration that
 * RTMP carries in the AAC sequence header and RTSP in `config=` (RFC 3640).
 *
 *   AudioSpecificConfig() {
 *     audioObjectType                 5 bits   (31: escape, then 6 bits + 32)
 *     samplingFrequencyIndex          4 bits   (15: explicit, then 24-bit frequency)
 *     channelConfiguration            4 bits
 *     if (audioObjectType == 5 || == 29) {     (explicit hierarchical SBR / PS signalling)
 *       extensionSamplingFrequencyIndex 4 bits (15: explicit, then 24 bits)
 *       audioObjectType               5 bits   (the core, e.g. 2 = AAC LC; 31: escape)
 *     }
 *     GASpecificConfig() {            (object types 1–4, 6, 7, 17, 19–23)
 *       frameLengthFlag 1 (0: 1024, 1: 960 samples) | dependsOnCoreCoder 1 [coreCoderDelay 14]
 *       extensionFlag 1
 *     }
 *     syncExtensionType 11 bits = 0x2b7, extensionAudioObjectType 5 bits = 5, sbrPresentFlag 1
 *       [extensionSamplingFrequencyIndex 4 (+24)]  (backward-compatible signalling, optional)
 *   }
 */
export interface AudioSpecificConfig {
  /** Audio object type of the core coder (2 = AAC LC); SBR/PS are reported in `sbr`/`ps`. */
  objectType: number;
  /** Core sampling frequency, Hz (what ADTS headers carry). */
  sampleRate: number;
  /** Index of `sampleRate` in the standard table; 15 when the frequency is explicit. */
  sampleRateIndex: number;
  /** Number of channels (0 when a program config element in the bitstream defines them). */
  channels: number;
  /** channelConfiguration as coded (0–15). */
  channelConfig: number;
  /** Samples per frame: 1024, or 960 when frameLengthFlag is set. */
  frameLength: 1024 | 960;
  /** Spectral band replication: true/false when signalled explicitly, absent otherwise. */
  sbr?: boolean;
  /** Parametric stereo, when signalled explicitly. */
  ps?: boolean;
  /** Output sampling frequency with SBR (twice the core rate, typically), when signalled. */
  extensionSampleRate?: number;
}

/** The standard sampling frequency table (ISO/IEC 14496-3 Table 1.18); 13, 14 reserved. */
export const AAC_SAMPLE_RATES: readonly number[] = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/** channelConfiguration → channel count (ISO/IEC 14496-3 Table 1.19, with 23003-3 additions). */
const CHANNELS_BY_CONFIG = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 0, 8, 0];

/** Object types whose config is a GASpecificConfig. */
const GA_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);

/** Parses an AudioSpecificConfig; throws BAD_MEDIA when it is truncated or reserved. */
export function parseAudioSpecificConfig(b: Uint8Array): AudioSpecificConfig {
  const r = new BitReader(b);
  let objectType = readObjectType(r);
  const [sampleRateIndex, sampleRate] = readFrequency(r);
  const channelConfig = r.read(4);
  let sbr: boolean | undefined;
  let ps: boolean | undefined;
  let extensionSampleRate: number | undefined;
  if (objectType === 5 || objectType === 29) {
    sbr = true;
    if (objectType === 29) ps = true;
    extensionSampleRate = readFrequency(r)[1];
    objectType = readObjectType(r);
    if (objectType === 22) r.read(4); // extensionChannelConfiguration
  }
  let frameLength: 1024 | 960 = 1024;
  if (GA_TYPES.has(objectType)) {
    frameLength = r.read(1) ? 960 : 1024;
    if (r.read(1)) r.read(14); // dependsOnCoreCoder → coreCoderDelay
    const extensionFlag = r.read(1);
    // With channelConfiguration 0 a program_config_element follows (not parsed: the channel
    // count then comes from the bitstream, and nothing after it is read).
    if (channelConfig !== 0 && (objectType === 6 || objectType === 20)) r.read(3); // layerNr
    if (channelConfig !== 0 && extensionFlag) {
      if (objectType === 22) r.read(16); // numOfSubFrame, layer_length
      if ([17, 19, 20, 23].includes(objectType)) r.read(3); // resilience flags
      r.read(1); // extensionFlag3
    }
    // Backward-compatible explicit SBR/PS signalling.
    if (channelConfig !== 0 && sbr === undefined && r.left >= 16 && r.peek(11) === 0x2b7) {
      r.read(11);
      if (r.read(5) === 5) {
        sbr = r.read(1) === 1;
        if (sbr) {
          extensionSampleRate = readFrequency(r)[1];
          if (r.left >= 12 && r.peek(11) === 0x548) {
            r.read(11);
            ps = r.read(1) === 1;
          }
        }
      }
    }
  }
  const channels = CHANNELS_BY_CONFIG[channelConfig] ?? 0;
  const asc: AudioSpecificConfig = {
    objectType,
    sampleRate,
    sampleRateIndex,
    channels,
    channelConfig,
    frameLength,
  };
  if (sbr !== undefined) asc.sbr = sbr;
  if (ps !== undefined) asc.ps = ps;
  if (extensionSampleRate !== undefined) asc.extensionSampleRate = extensionSampleRate;
  return asc;
}

/** What `serializeAudioSpecificConfig` needs; the rest of AudioSpecificConfig is optional. */
export type AudioSpecificConfigInit = Pick<AudioSpecificConfig, 'objectType' | 'sampleRate' | 'channels'> &
  Partial<AudioSpecificConfig>;

/**
 * Serialises an AudioSpecificConfig with a GASpecificConfig. `sbr: true` is written with
 * hierarchical signalling (object type 5 or 29 first), `sbr: false` with the backward-compatible
 * sync extension (as ffmpeg's FLV/MP4 muxers write it); absent, no SBR signalling.
 */
export function serializeAudioSpecificConfig(c: AudioSpecificConfigInit): Uint8Array {
  const w = new BitWriter();
  const channelConfig = c.channelConfig ?? channelConfigFor(c.channels);
  if (c.sbr === true) {
    writeObjectType(w, c.ps ? 29 : 5);
    writeFrequency(w, c.sampleRate, c.sampleRateIndex);
    w.write(4, channelConfig);
    writeFrequency(w, c.extensionSampleRate ?? c.sampleRate * 2);
  } else {
    writeObjectType(w, c.objectType);
    writeFrequency(w, c.sampleRate, c.sampleRateIndex);
    w.write(4, channelConfig);
  }
  if (c.sbr === true) writeObjectType(w, c.objectType);
  if (GA_TYPES.has(c.objectType)) {
    w.write(1, c.frameLength === 960 ? 1 : 0);
    w.write(1, 0); // dependsOnCoreCoder
    w.write(1, 0); // extensionFlag
    if (c.objectType === 6 || c.objectType === 20) w.write(3, 0);
    if (c.sbr === false) {
      w.write(11, 0x2b7);
      w.write(5, 5);
      w.write(1, 0);
    }
  }
  return w.bytes();
}

/** The channelConfiguration for a channel count; throws BAD_MEDIA when none fits. */
export function channelConfigFor(channels: number): number {
  if (channels >= 1 && channels <= 6) return channels;
  if (channels === 8) return 7;
  throw new AirError('BAD_MEDIA', `AAC: no channel configuration for ${channels} channels`);
}

function readObjectType(r: BitReader): number {
  const t = r.read(5);
  return t === 31 ? 32 + r.read(6) : t;
}

function writeObjectType(w: BitWriter, t: number): void {
  if (t >= 31) {
    w.write(5, 31);
    w.write(6, t - 32);
  } else w.write(5, t);
}

function readFrequency(r: BitReader): [index: number, rate: number] {
  const index = r.read(4);
  if (index === 15) return [15, r.read(24)];
  const rate = AAC_SAMPLE_RATES[index];
  if (rate === undefined) throw new AirError('BAD_MEDIA', `AAC: reserved sampling frequency index ${index}`);
  return [index, rate];
}

function writeFrequency(w: BitWriter, rate: number, index?: number): void {
  const i = index ?? AAC_SAMPLE_RATES.indexOf(rate);
  if (i >= 0 && i !== 15) w.write(4, i);
  else {
    w.write(4, 15);
    w.write(24, rate);
  }
}

/** MSB-first bit reader over a byte array; throws BAD_MEDIA past the end. */
class BitReader {
  private pos = 0;
  private readonly b: Uint8Array;
  constructor(b: Uint8Array) {
    this.b = b;
  }
  get left(): number {
    return this.b.length * 8 - this.pos;
  }
  peek(n: number): number {
    const p = this.pos;
    const v = this.read(n);
    this.pos = p;
    return v;
  }
  read(n: number): number {
    if (n > this.left) throw new AirError('BAD_MEDIA', 'AAC: AudioSpecificConfig is truncated');
    let v = 0;
    for (let i = 0; i < n; i++, this.pos++)
      v = v * 2 + ((this.b[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1);
    return v;
  }
}

/** MSB-first bit writer; `bytes()` pads the last byte with zeros. */
class BitWriter {
  private readonly bits: number[] = [];
  write(n: number, v: number): void {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(v / 2 ** i) & 1);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(Math.ceil(this.bits.length / 8));
    this.bits.forEach((bit, i) => (out[i >> 3]! |= bit << (7 - (i & 7))));
    return out;
  }
}
