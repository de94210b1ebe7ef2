import { describe, expect, it } from 'vitest';
import { CommandMessage } from '../../protocol/rtmp/messages.ts';
import {
  connectResult,
  createStreamResult,
  mergeQueries,
  onFCPublish,
  onStatus,
  splitName,
  tcUrlQuery,
} from './rtmp-commands.ts';

describe('RTMP command replies', () => {
  it('answers connect as nginx-rtmp does', () => {
    const m = connectResult(1, 0);
    expect([m.csid, m.streamId, m.typeId]).toEqual([3, 0, 20]);
    const c = CommandMessage.parse(m);
    expect([c.name, c.transactionId, c.object]).toEqual([
      '_result',
      1,
      { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
    ]);
    expect(c.args[0]).toEqual({
      level: 'status',
      code: 'NetConnection.Connect.Success',
      description: 'Connection succeeded.',
      objectEncoding: 0,
    });
  });

  it('answers createStream, FCPublish and publish', () => {
    expect(CommandMessage.parse(createStreamResult(4, 1)).args).toEqual([1]);
    const fc = CommandMessage.parse(onFCPublish());
    expect([fc.name, fc.args[0]]).toEqual([
      'onFCPublish',
      expect.objectContaining({ code: 'NetStream.Publish.Start' }),
    ]);
    const st = onStatus(1, 'error', 'NetStream.Publish.BadName', 'PATH_BUSY: busy');
    expect([st.csid, st.streamId]).toEqual([5, 1]);
    expect(CommandMessage.parse(st).args[0]).toEqual({
      level: 'error',
      code: 'NetStream.Publish.BadName',
      description: 'PATH_BUSY: busy',
    });
  });
});

describe('publish names and queries', () => {
  it('splits a stream key with a query (ffmpeg URL, OBS stream key)', () => {
    const { name, query } = splitName('myclass?token=XYZ&x=1');
    expect(name).toBe('myclass');
    expect(query.get('token')).toBe('XYZ');
    expect(splitName('plain').query.size).toBe(0);
  });

  it('merges tcUrl, app and name queries, the stream name winning', () => {
    const q = mergeQueries(
      tcUrlQuery('rtmp://host:1935/live?token=fromUrl&jwt=j'),
      splitName('live?token=fromApp').query,
      splitName('myclass?token=fromKey').query,
    );
    expect(q.get('token')).toBe('fromKey');
    expect(q.get('jwt')).toBe('j');
    expect(tcUrlQuery('rtmp://host/live').size).toBe(0);
  });
});
