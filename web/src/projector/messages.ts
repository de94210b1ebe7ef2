/**
 * The projector view (join code, QR, quiz aggregates). It also reads the console's bundle
 * (join.*, quiz.*).
 */
import type { Bundle } from '../lib/i18n.ts';

export default {
  ko: {
    'proj.noClass': '주소에 수업이 없습니다. 콘솔의 "크게 보기"로 여세요.',
    'proj.fullscreen': '전체 화면',
    'proj.howTo': '{url} 에 접속해 코드를 입력하거나 QR 코드를 스캔하세요',
    'proj.shortAnswer': '단답형 퀴즈입니다. 휴대폰에서 답을 입력하세요.',
  },
  en: {
    'proj.noClass': 'No class in this address. Open it with "Show big" in the console.',
    'proj.fullscreen': 'Full screen',
    'proj.howTo': 'Open {url} and type the code, or scan the QR code',
    'proj.shortAnswer': 'Short-answer quiz: type your answer on your phone.',
  },
} satisfies Bundle;
