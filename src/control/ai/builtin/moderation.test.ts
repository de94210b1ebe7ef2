import { describe, expect, it } from 'vitest';
import { holdReasons } from './moderation.ts';

function heldFor(texts: readonly string[]): Record<string, string[]> {
  return Object.fromEntries(texts.map((t) => [t, holdReasons(t)]));
}

function expectAll(texts: readonly string[], reasons: string[]): void {
  expect(heldFor(texts)).toEqual(Object.fromEntries(texts.map((t) => [t, reasons])));
}

describe('holdReasons', () => {
  it('holds Korean phone numbers in every usual spelling', () => {
    expectAll(
      [
        '010-1234-5678',
        '01012345678',
        '제 번호 010 1234 5678 이에요',
        '010.1234.5678',
        '011-123-4567',
        '+82 10-1234-5678',
        '+82-10-1234-5678',
        '+821012345678',
        '02-123-4567',
        '(02) 1234-5678',
        '031-123-4567',
        '070-1234-5678',
        '전화 1588-1234',
        '０１０－１２３４－５６７８',
      ],
      ['phone'],
    );
  });

  it('holds e-mail addresses', () => {
    expectAll(
      ['hong.gildong@school.kr', '메일은 kim_01+class@gmail.com 입니다', 'lee＠naver.com'],
      ['email'],
    );
  });

  it('holds a 주민등록번호 with a valid date and first back digit', () => {
    expectAll(['950101-1234567', '주민번호 020315-4123456', '990101 5123456'], ['rrn']);
    // Without a hyphen the check digit must hold too.
    expect(holdReasons('8201011234564')).toEqual(['rrn']);
    expect(holdReasons('8201011234567')).toEqual([]);
    // Month 13, day 32, or a back digit of 9 or 0 is not a 주민등록번호.
    expectAll(['951301-1234567', '950132-1234567', '950101-9234567', '950101-0234567'], []);
  });

  it('holds street addresses, conservatively', () => {
    expectAll(
      [
        '서울 강남구 테헤란로 123',
        '우리 집은 수원시 장안구 정조로 12에 있어',
        '압구정로12길 3',
        '중앙길 3-4',
        '래미안 101동 1203호',
        '산 12번지',
      ],
      ['address'],
    );
    // A road name alone with a plain number may be anything; it is posted.
    expectAll(
      [
        '행복로 12',
        '그래프로 12를 나타내면',
        '앞으로 12개',
        '새로 3개 만들었어',
        '순서대로 3번',
        '이 길 3-4',
      ],
      [],
    );
  });

  it('holds Korean insults and their evasions', () => {
    expectAll(
      [
        '시발',
        '아 씨발 뭐야',
        'ㅅㅂ',
        'ㅋㅋㅋㅅㅂ',
        'ㅂㅅ아',
        '시 발',
        '씨.발',
        '병1신',
        '병 신',
        '씨 발놈',
        '개새끼',
        '존나 어려워',
        'tlqkf',
      ],
      ['insult'],
    );
  });

  it('holds English insults and their evasions', () => {
    expectAll(
      [
        'fuck',
        'What the FUCK',
        'f*ck this',
        'f**k',
        'fuuuck',
        'sh1t',
        'sh!t',
        'b*tch',
        's h i t',
        'f.u.c.k',
        'you idiot',
        'motherfucker',
        'bullshit',
      ],
      ['insult'],
    );
  });

  it('posts ordinary words that contain a bad word', () => {
    expectAll(
      [
        '시발점이 어디예요?',
        '이 노선의 시발역은 서울역이야',
        '다시 발표할게요',
        '그 시 발표해 줘',
        '새끼손가락이 아파요',
        '일병 신고합니다',
        '불이 꺼져요',
        'ㅂㅂ ㅅㄱ',
        'ㅋㅋㅋㅋ ㅎㅎ ㅠㅠ',
        'Scunthorpe',
        'class assessment',
        'Charles Dickens',
        'a cocktail',
        'shitake mushrooms',
        'Moby Dick',
        'fire retardant',
      ],
      [],
    );
  });

  it('posts the numbers of a maths lesson, years and quiz answers', () => {
    expectAll(
      [
        '2+3=5',
        '1234 × 5678',
        '1234 x 5678 = 7006652',
        '12345678 × 9',
        '2024년',
        '2024-01-15',
        '100도',
        '답은 0.5',
        '3.1415926535',
        '정답은 010',
        'x=010-1234',
        '123456-1234567',
        '10, 20, 30, 40',
      ],
      [],
    );
  });

  it('gives every reason that applies, in a fixed order', () => {
    expect(holdReasons('ㅅㅂ 내 번호 010-1234-5678 메일 a@b.com')).toEqual(['phone', 'email', 'insult']);
    expect(holdReasons('')).toEqual([]);
    expect(holdReasons('선생님 3번 단계가 이해가 안 돼요')).toEqual([]);
  });
});
