/**
 * The command replies an RTMP server sends, worded as nginx-rtmp sends them (ffmpeg, OBS,
 * Larix and PRISM accept these), plus the stream-name / query handling of publish.
 */
import type { Amf0Object, Amf0Value } from '../../protocol/amf/amf0.ts';
import type { RtmpMessage } from '../../protocol/rtmp/chunk.ts';
import { CommandMessage, Csid } from '../../protocol/rtmp/messages.ts';

/** The status object of an onStatus / onFCPublish. */
function info(level: 'status' | 'error', code: string, description: string): Amf0Object {
  return { level, code, description };
}

/** `_result` of connect. */
export function connectResult(transactionId: number, objectEncoding: number): RtmpMessage {
  return new CommandMessage('_result', transactionId, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, [
    { ...info('status', 'NetConnection.Connect.Success', 'Connection succeeded.'), objectEncoding },
  ]).serialize(Csid.command, 0);
}

/** `_result` of createStream with the new message stream id. */
export function createStreamResult(transactionId: number, streamId: number): RtmpMessage {
  return new CommandMessage('_result', transactionId, null, [streamId]).serialize(Csid.command, 0);
}

/** `onFCPublish` answering FCPublish. */
export function onFCPublish(): RtmpMessage {
  return new CommandMessage('onFCPublish', 0, null, [
    info('status', 'NetStream.Publish.Start', 'FCPublish succeeded.'),
  ]).serialize(Csid.stream, 1);
}

/** An `onStatus` on a message stream. */
export function onStatus(
  streamId: number,
  level: 'status' | 'error',
  code: string,
  description: string,
  extra: Record<string, Amf0Value> = {},
): RtmpMessage {
  return new CommandMessage('onStatus', 0, null, [{ ...info(level, code, description), ...extra }]).serialize(
    Csid.stream,
    streamId,
  );
}

/** A stream name as published, split into the name and its query (`myclass?token=X`). */
export interface PublishName {
  name: string;
  query: URLSearchParams;
}

/** Splits `name?query`. */
export function splitName(s: string): PublishName {
  const i = s.indexOf('?');
  if (i < 0) return { name: s, query: new URLSearchParams() };
  return { name: s.slice(0, i), query: new URLSearchParams(s.slice(i + 1)) };
}

/**
 * The query a publisher sent, merged from the connect tcUrl, the connect app and the stream name
 * (later ones win): OBS users put the token in the server URL or the stream key, ffmpeg users in
 * the URL (where it ends up on the stream name).
 */
export function mergeQueries(...queries: URLSearchParams[]): URLSearchParams {
  const out = new URLSearchParams();
  for (const q of queries) for (const [k, v] of q) out.set(k, v);
  return out;
}

/** The query of a tcUrl such as `rtmp://host:1935/live?token=X`; empty when it has none. */
export function tcUrlQuery(tcUrl: string): URLSearchParams {
  const i = tcUrl.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : tcUrl.slice(i + 1));
}
