/**
 * The join page of students (code, name, what is recorded about them).
 */
import type { Bundle } from '../lib/i18n.ts';

export default {
  ko: {
    'join.title': '수업 참여',
    'join.lead': '선생님이 알려 준 6자리 참여 코드와 이름을 입력하세요.',
    'join.code': '참여 코드',
    'join.name': '이름',
    'join.submit': '입장하기',
    'join.badCode': '참여 코드는 숫자 6자리입니다.',
    'join.noName': '이름을 입력해 주세요.',
    'join.dataTitle': '수업 중에 기록되는 것',
    'join.notice':
      '이름, 입장·퇴장 시각, 채팅, 퀴즈 답과 응답 시간, 손들기와 반응, 그리고 영상이 재생 중인지와 이 탭이 화면에 보이는지가 이번 수업에 기록되어 선생님이 봅니다. 카메라와 마이크는 사용하지 않습니다. 수업 화면의 "내 데이터"에서 언제든 확인할 수 있습니다. 수업 영상(선생님 화면과 소리)은 녹화되며, 선생님이 다시 보기를 공유하면 반 학생들이 채팅(이름 포함)과 함께 볼 수 있습니다.',
    'join.teacherLink': '선생님이신가요? 로그인',
    'join.error.JOIN_CODE_INVALID': '이 코드로 열린 수업이 없습니다. 코드를 다시 확인해 주세요.',
    'join.error.CLASS_ENDED': '이 수업은 끝났습니다. 다음 수업에서 선생님이 알려 주는 코드로 들어와 주세요.',
    'join.error.LESSON_ENDED': '이 수업은 끝났습니다. 다음 수업에서 선생님이 알려 주는 코드로 들어와 주세요.',
    'join.error.CLASS_ARCHIVED': '이 수업은 더 이상 열리지 않습니다. 선생님에게 새 코드를 받아 주세요.',
    'join.error.REMOVED': '선생님이 이번 수업에서 내보냈습니다. 다시 들어올 수 없습니다.',
  },
  en: {
    'join.title': 'Join a class',
    'join.lead': 'Enter the 6-digit code your teacher shows, and your name.',
    'join.code': 'Join code',
    'join.name': 'Your name',
    'join.submit': 'Join',
    'join.badCode': 'The join code has 6 digits.',
    'join.noName': 'Please enter your name.',
    'join.dataTitle': 'What is recorded during the class',
    'join.notice':
      'For this lesson AirClass records your name, when you join and leave, your chat messages, your quiz answers and how fast you answered, raised hands and reactions, and whether the video is playing and this tab is on screen; your teacher sees them. It never uses your camera or microphone. "My data" on the class page shows it at any time. The lesson video (the teacher\'s screen and sound) is recorded; when the teacher shares the replay, the class sees it with the chat (names included).',
    'join.teacherLink': 'Teacher? Sign in',
    'join.error.JOIN_CODE_INVALID': 'No class is open with this code. Please check it.',
    'join.error.CLASS_ENDED': 'This class has ended. Join the next one with the code your teacher gives you.',
    'join.error.LESSON_ENDED':
      'This class has ended. Join the next one with the code your teacher gives you.',
    'join.error.CLASS_ARCHIVED': 'This class is closed. Please ask your teacher for a new code.',
    'join.error.REMOVED': 'Your teacher removed you from this lesson. You cannot join it again.',
  },
} satisfies Bundle;
