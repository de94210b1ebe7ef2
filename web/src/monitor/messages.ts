/**
 * The read-only monitor page. It also reads the console's bundle (eng.*, roster.*, hands.*).
 */
import type { Bundle } from '../lib/i18n.ts';

export default {
  ko: {
    'monitor.badge': '읽기 전용',
    'monitor.noToken': '링크에 토큰이 없습니다. 선생님이 보낸 모니터 링크를 그대로 열어 주세요.',
    'monitor.refused': '이 링크는 더 이상 쓸 수 없습니다. 선생님께 새 링크를 받아 주세요.',
    'monitor.noSignal': '방송 신호 없음',
    'monitor.connecting': '연결 중…',
    'monitor.videoLabel': '수업 화면',
    'monitor.endedTitle': '수업이 끝났습니다',
    'monitor.endedBody': '이 수업은 끝났습니다. 이 링크는 이번 수업에만 쓸 수 있습니다. 창을 닫아도 됩니다.',
  },
  en: {
    'monitor.badge': 'Read only',
    'monitor.noToken': 'This link has no token. Please open the monitor link exactly as the teacher sent it.',
    'monitor.refused': 'This link no longer works. Please ask the teacher for a new one.',
    'monitor.noSignal': 'No signal from the encoder',
    'monitor.connecting': 'Connecting…',
    'monitor.videoLabel': 'Class picture',
    'monitor.endedTitle': 'The class has ended',
    'monitor.endedBody': 'This class is over. The link was for this lesson only; you can close this window.',
  },
} satisfies Bundle;
