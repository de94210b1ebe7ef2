/**
 * H.264 sequence parameter set parser (ITU-T H.264 §7.3.2.1.1): profile, level, picture size
 * after cropping, and the few VUI fields a server cares about (frame rate, reordering).
 */
import { AirError } from '../../../shared/errors.ts';
import { BitReader, unescapeRbsp } from './bit-reader.ts';

/** What `parseSps` extracts from a sequence parameter set. */
export interface Sps {
  /** profile_idc, e.g. 66 (baseline), 77 (main), 100 (high). */
  profile: number;
  /** The constraint_set0..5 flags and reserved bits: the byte after profile_idc. */
  constraints: number;
  /** level_idc, e.g. 31 for level 3.1. */
  level: number;
  /** seq_parameter_set_id. */
  id: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormatIdc: number;
  separateColourPlane: boolean;
  bitDepthLuma: number;
  bitDepthChroma: number;
  log2MaxFrameNum: number;
  picOrderCntType: number;
  maxNumRefFrames: number;
  /** False for interlaced (field or MBAFF) coding. */
  frameMbsOnly: boolean;
  /** Displayed size, after frame cropping. */
  width: number;
  height: number;
  /** Coded size in pixels, before cropping. */
  codedWidth: number;
  codedHeight: number;
  /** Cropping in pixels. */
  crop: { left: number; right: number; top: number; bottom: number };
  /** Frames per second from VUI timing info (time_scale / (2 × num_units_in_tick)), if given. */
  fps?: number;
  /** VUI max_num_reorder_frames, if given: > 0 means B-frames / reordering. */
  maxNumReorderFrames?: number;
}

/** profile_idc values whose SPS carries chroma_format_idc, bit depths and scaling lists. */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function check(ok: boolean, what: string): void {
  if (!ok) throw new AirError('BAD_MEDIA', `H.264 SPS: ${what}`);
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    if (next !== 0) last = next;
  }
}

/**
 * Parses an SPS NAL unit (header byte included, no start code). Handles emulation prevention,
 * the high profiles' chroma format, bit depths and scaling lists, interlacing and frame
 * cropping. VUI is read for timing and reordering only; a truncated VUI is ignored.
 * Throws `AirError('BAD_MEDIA')` on anything that is not a well-formed SPS.
 */
export function parseSps(nal: Uint8Array): Sps {
  check(nal.length >= 4, 'too short');
  check((nal[0]! & 0x1f) === 7, `NAL type ${nal[0]! & 0x1f} is not an SPS`);
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  const profile = r.bits(8);
  const constraints = r.bits(8);
  const level = r.bits(8);
  const id = r.ue();
  check(id <= 31, `seq_parameter_set_id ${id}`);
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormatIdc = r.ue();
    check(chromaFormatIdc <= 3, `chroma_format_idc ${chromaFormatIdc}`);
    if (chromaFormatIdc === 3) separateColourPlane = r.flag();
    bitDepthLuma = r.ue() + 8;
    bitDepthChroma = r.ue() + 8;
    check(bitDepthLuma <= 14 && bitDepthChroma <= 14, 'bit depth');
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  const log2MaxFrameNum = r.ue() + 4;
  check(log2MaxFrameNum <= 16, 'log2_max_frame_num');
  const picOrderCntType = r.ue();
  check(picOrderCntType <= 2, `pic_order_cnt_type ${picOrderCntType}`);
  if (picOrderCntType === 0) {
    check(r.ue() <= 12, 'log2_max_pic_order_cnt_lsb');
  } else if (picOrderCntType === 1) {
    r.skip(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    check(cycle <= 255, 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.se();
  }
  const maxNumRefFrames = r.ue();
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.flag();
  if (!frameMbsOnly) r.skip(1); // mb_adaptive_frame_field_flag
  r.skip(1); // direct_8x8_inference_flag
  const codedWidth = widthMbs * 16;
  const codedHeight = (frameMbsOnly ? 1 : 2) * heightMapUnits * 16;
  check(codedWidth <= 16384 && codedHeight <= 16384, `coded size ${codedWidth}x${codedHeight}`);
  const crop = { left: 0, right: 0, top: 0, bottom: 0 };
  if (r.flag()) {
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 3 ? 1 : 2;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    const unitX = chromaArrayType === 0 ? 1 : subWidthC;
    const unitY = (chromaArrayType === 0 ? 1 : subHeightC) * (frameMbsOnly ? 1 : 2);
    crop.left = r.ue() * unitX;
    crop.right = r.ue() * unitX;
    crop.top = r.ue() * unitY;
    crop.bottom = r.ue() * unitY;
  }
  const width = codedWidth - crop.left - crop.right;
  const height = codedHeight - crop.top - crop.bottom;
  check(width > 0 && height > 0, `cropping leaves ${width}x${height}`);
  const sps: Sps = {
    profile,
    constraints,
    level,
    id,
    chromaFormatIdc,
    separateColourPlane,
    bitDepthLuma,
    bitDepthChroma,
    log2MaxFrameNum,
    picOrderCntType,
    maxNumRefFrames,
    frameMbsOnly,
    width,
    height,
    codedWidth,
    codedHeight,
    crop,
  };
  if (r.flag()) {
    try {
      readVui(r, sps);
    } catch {
      // A truncated or exotic VUI does not make the picture size wrong: keep what we have.
    }
  }
  return sps;
}

function skipHrd(r: BitReader): void {
  const count = r.ue() + 1;
  r.skip(8); // bit_rate_scale, cpb_size_scale
  for (let i = 0; i < count; i++) {
    r.ue(); // bit_rate_value_minus1
    r.ue(); // cpb_size_value_minus1
    r.skip(1); // cbr_flag
  }
  r.skip(20); // four 5-bit lengths/delays
}

/** VUI (Annex E.1.1), up to bitstream_restriction. */
function readVui(r: BitReader, sps: Sps): void {
  if (r.flag()) {
    // aspect_ratio_info_present_flag
    if (r.bits(8) === 255) r.skip(32); // Extended_SAR: sar_width, sar_height
  }
  if (r.flag()) r.skip(1); // overscan_info_present_flag → overscan_appropriate_flag
  if (r.flag()) {
    // video_signal_type_present_flag
    r.skip(4); // video_format, video_full_range_flag
    if (r.flag()) r.skip(24); // colour primaries, transfer, matrix
  }
  if (r.flag()) {
    r.ue(); // chroma_sample_loc_type_top_field
    r.ue(); // chroma_sample_loc_type_bottom_field
  }
  if (r.flag()) {
    const unitsInTick = r.bits(32);
    const timeScale = r.bits(32);
    r.skip(1); // fixed_frame_rate_flag
    if (unitsInTick > 0 && timeScale > 0) sps.fps = timeScale / (2 * unitsInTick);
  }
  const nalHrd = r.flag();
  if (nalHrd) skipHrd(r);
  const vclHrd = r.flag();
  if (vclHrd) skipHrd(r);
  if (nalHrd || vclHrd) r.skip(1); // low_delay_hrd_flag
  r.skip(1); // pic_struct_present_flag
  if (r.flag()) {
    // bitstream_restriction_flag
    r.skip(1); // motion_vectors_over_pic_boundaries_flag
    r.ue(); // max_bytes_per_pic_denom
    r.ue(); // max_bits_per_mb_denom
    r.ue(); // log2_max_mv_length_horizontal
    r.ue(); // log2_max_mv_length_vertical
    sps.maxNumReorderFrames = r.ue();
  }
}

/**
 * The 6-hex-digit profile-level-id of RFC 6184 (profile_idc, constraint byte, level_idc), e.g.
 * "42c01f". Takes an SPS NAL unit or a parsed SPS.
 */
export function profileLevelId(sps: Uint8Array | Pick<Sps, 'profile' | 'constraints' | 'level'>): string {
  let bytes: number[];
  if (sps instanceof Uint8Array) {
    check(sps.length >= 4 && (sps[0]! & 0x1f) === 7, 'not an SPS NAL unit');
    bytes = [sps[1]!, sps[2]!, sps[3]!];
  } else {
    bytes = [sps.profile, sps.constraints, sps.level];
  }
  return bytes.map((x) => (x & 0xff).toString(16).padStart(2, '0')).join('');
}
