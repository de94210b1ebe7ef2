import { describe, expect, it } from 'vitest';
import { Pseudonyms } from './pseudonyms.ts';

describe('pseudonyms for student names', () => {
  it('numbers students in roster order, dropping blanks and duplicates', () => {
    const p = new Pseudonyms(['김민지', ' ', 'Alex Park', '김민지', '이서준']);
    expect(p.size).toBe(3);
    expect(p.hide('김민지, Alex Park, 이서준')).toBe('Student 1, Student 2, Student 3');
  });

  it('replaces the longest name first, so a shorter name inside it is not half-replaced', () => {
    const p = new Pseudonyms(['김민', '김민지']);
    expect(p.hide('김민지와 김민이 같이 풀었다')).toBe('Student 2와 Student 1이 같이 풀었다');
    const q = new Pseudonyms(['Ann', 'Anna']);
    expect(q.hide('Anna helped Ann; Annabel watched')).toBe('Student 2 helped Student 1; Annabel watched');
  });

  it('finds Korean names with particles attached, but not inside other words', () => {
    const p = new Pseudonyms(['민지', '민준']);
    expect(p.hide('민지가 묻고 민지는 답했다. 민준이랑 민준아!')).toBe(
      'Student 1가 묻고 Student 1는 답했다. Student 2이랑 Student 2아!',
    );
    // "시민지원" and "민지원" are other words, not 민지.
    expect(p.hide('시민지원 센터의 민지원')).toBe('시민지원 센터의 민지원');
  });

  it('hides the given name of a full Korean name, unless two students share it', () => {
    const p = new Pseudonyms(['김민지', '박서준', '이서준']);
    const hidden = p.hide('민지가 질문했고 서준이 답했다');
    expect(hidden).not.toContain('민지');
    expect(hidden).not.toContain('서준');
    expect(hidden).toBe('Student 1가 질문했고 Student이 답했다');
  });

  it('matches Latin names regardless of case and whole words only', () => {
    const p = new Pseudonyms(['Alex']);
    expect(p.hide('alex and ALEX, not Alexander')).toBe('Student 1 and Student 1, not Alexander');
  });

  it('reveals pseudonyms back, and the round trip gives the original text', () => {
    const p = new Pseudonyms(['김민지', '박민준', 'Alex Park']);
    const text = '김민지가 묻고 박민준이랑 Alex Park는 답했다. 민지는 다시 물었다.';
    expect(p.reveal(p.hide(text))).toBe('김민지가 묻고 박민준이랑 Alex Park는 답했다. 김민지는 다시 물었다.');
    expect(p.reveal('Student 2 and student 3 need help; Student 12 is unknown')).toBe(
      '박민준 and Alex Park need help; Student 12 is unknown',
    );
  });

  it('reveals Korean answers, fixing the particle to the real name', () => {
    const p = new Pseudonyms(['김민지', '박민준']);
    // Gemini picks particles for "Student n"; the name decides which one is right.
    expect(p.reveal('학생 1이 오답을 골랐고 Student 2는 도움이 필요합니다. Student 1을 칭찬하세요.')).toBe(
      '김민지가 오답을 골랐고 박민준은 도움이 필요합니다. 김민지를 칭찬하세요.',
    );
    expect(p.reveal('Student 2와 Student 1과')).toBe('박민준과 김민지와');
  });

  it('leaves text alone when the roster is empty', () => {
    const p = new Pseudonyms([]);
    expect(p.hide('김민지가 Student 1')).toBe('김민지가 Student 1');
    expect(p.reveal('Student 1')).toBe('Student 1');
  });
});
