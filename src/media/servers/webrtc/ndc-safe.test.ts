import ndc from 'node-datachannel';
import { describe, expect, it, vi } from 'vitest';
import { guard, sendSafely } from './ndc-safe.ts';

/**
 * Regression (450-viewer join storm): a NACK answered on a track that had just closed threw
 * inside node-datachannel's callback, which aborted the whole server ("terminate called after
 * throwing an instance of 'Napi::Error'").
 */
describe('node-datachannel guards', () => {
  it('sending on a closed track returns false instead of throwing', () => {
    const pc = new ndc.PeerConnection('t', { iceServers: [] });
    const v = new ndc.Video('0', 'SendOnly');
    v.addH264Codec(96);
    const track = pc.addTrack(v);
    pc.close();
    const packet = Buffer.alloc(100);
    packet[0] = 0x80;
    expect(() => track.sendMessageBinary(packet)).toThrow();
    expect(sendSafely(track, packet)).toBe(false);
  });

  it('guard() keeps an exception from leaving a callback', () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const cb = guard(() => {
      throw new Error('boom');
    });
    expect(() => cb()).not.toThrow();
    expect(err).toHaveBeenCalledWith(expect.stringContaining('boom'));
    err.mockRestore();
  });
});
