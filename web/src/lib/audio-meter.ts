/**
 * The loudness of a remote audio track through a Web Audio AnalyserNode: what `audioLevel()`
 * of the player reports (tests check the tone is heard; a page may draw a meter).
 */
export class AudioMeter {
  #ctx: AudioContext | null = null;
  #analyser: AnalyserNode | null = null;
  #source: MediaStreamAudioSourceNode | null = null;
  #buf: Float32Array<ArrayBuffer> | null = null;

  /** Listens to the first audio track of `stream` (replacing the previous one). */
  attach(stream: MediaStream): void {
    const track = stream.getAudioTracks()[0];
    if (!track) return;
    try {
      this.#ctx ??= new AudioContext();
      if (!this.#analyser) {
        this.#analyser = this.#ctx.createAnalyser();
        this.#analyser.fftSize = 2048;
        this.#buf = new Float32Array(this.#analyser.fftSize);
      }
      this.#source?.disconnect();
      this.#source = this.#ctx.createMediaStreamSource(new MediaStream([track]));
      this.#source.connect(this.#analyser);
    } catch (e) {
      console.warn('airclass: Web Audio unavailable, audioLevel() stays 0', e);
    }
  }

  /** Resumes the audio context (after a user gesture). */
  resume(): void {
    this.#ctx?.resume().catch(() => {});
  }

  /** RMS of the latest time-domain window, 0..1 (0 without audio). */
  level(): number {
    if (!this.#analyser || !this.#buf) return 0;
    this.#analyser.getFloatTimeDomainData(this.#buf);
    let sum = 0;
    for (const v of this.#buf) sum += v * v;
    return Math.min(1, Math.sqrt(sum / this.#buf.length));
  }

  /** Stops listening and closes the audio context. */
  close(): void {
    this.#source?.disconnect();
    this.#source = null;
    this.#ctx?.close().catch(() => {});
    this.#ctx = null;
    this.#analyser = null;
    this.#buf = null;
  }
}
