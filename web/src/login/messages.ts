/**
 * The sign-in page of teachers and admins.
 */
import type { Bundle } from '../lib/i18n.ts';

export default {
  ko: {
    'login.title': '교사 로그인',
    'login.lead': '이메일과 비밀번호로 로그인하세요. 관리자도 여기서 로그인합니다.',
    'login.email': '이메일',
    'login.password': '비밀번호',
    'login.submit': '로그인',
    'login.empty': '이메일과 비밀번호를 입력해 주세요.',
    'login.studentLink': '학생이신가요? 참여 코드로 입장하기',
  },
  en: {
    'login.title': 'Teacher sign-in',
    'login.lead': 'Sign in with your email and password. Administrators sign in here too.',
    'login.email': 'Email',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.empty': 'Enter your email and password.',
    'login.studentLink': 'Student? Join with a code',
  },
} satisfies Bundle;
