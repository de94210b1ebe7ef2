/**
 * What is recorded about a student in the lesson they joined ("my data", DESIGN §11), and a
 * lesson's engagement for its teacher and monitors: the last score of each student, the class
 * mean over time.
 */
import { AirError } from '../../shared/errors.ts';
import { canMonitorClass, check, type Principal } from '../auth/policy.ts';
import type { DrizzleEngagementRepo } from '../store/engagement-repo.ts';
import type { DrizzleQuizRepo } from '../store/quiz-repo.ts';
import type { ClassRepo, Lesson, ParticipantRepo } from '../store/types.ts';
import { classScore } from './score.ts';

/** What is shown on join and above "my data". */
export const DATA_NOTICE = {
  en:
    'AirClass records, for this lesson only: your name, when you joined and left, your chat ' +
    'messages, quiz answers and response times, reactions, raised hands, and whether the video ' +
    'was playing with this tab visible (an engagement score). Never your camera or microphone. ' +
    "The lesson video (the teacher's screen and sound) is recorded; a replay the teacher shares " +
    'shows the chat, names included, to the class.',
  ko:
    'AirClass는 이 수업에 한해 다음을 기록합니다: 이름, 입장·퇴장 시각, 채팅, 퀴즈 답과 응답 시간, ' +
    '반응, 손들기, 그리고 이 탭이 보이는 상태에서 영상이 재생 중이었는지(참여도 점수). ' +
    '카메라와 마이크는 절대 사용하지 않습니다. 수업 영상(선생님 화면과 소리)은 녹화되며, 선생님이 ' +
    '공유한 다시 보기에는 채팅이 이름과 함께 반 학생들에게 보입니다.',
};

/** What {@link StudentData} needs. */
export interface StudentDataDeps {
  participants: Pick<ParticipantRepo, 'byId'>;
  classes: Pick<ClassRepo, 'byId'>;
  lessons: { byId(id: string): Promise<Lesson | undefined> };
  quizzes: Pick<DrizzleQuizRepo, 'answersOf'>;
  engagement: Pick<DrizzleEngagementRepo, 'of' | 'chatOf' | 'samplesOf' | 'latest' | 'series'>;
}

/** The answer as the student gave it: option labels, or the text. */
function answerText(a: { choices: number[] | null; text: string | null; options: string[] }): string {
  if (a.text !== null) return a.text;
  return (a.choices ?? []).map((i) => a.options[i] ?? `#${i + 1}`).join(', ');
}

/** "My data" and lesson engagement. */
export class StudentData {
  private readonly deps: StudentDataDeps;

  constructor(deps: StudentDataDeps) {
    this.deps = deps;
  }

  /** Everything recorded about the calling student (student tokens only). */
  async me(p: Principal) {
    if (p.role !== 'student') throw new AirError('FORBIDDEN', 'My data is for students (their join token).');
    const me = await this.deps.participants.byId(p.sub);
    if (!me || me.classId !== p.classId) throw new AirError('NOT_FOUND');
    const cls = await this.deps.classes.byId(me.classId);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    const [lesson, chat, answers, interactions, samples] = await Promise.all([
      me.lessonId ? this.deps.lessons.byId(me.lessonId) : undefined,
      this.deps.engagement.chatOf(me.classId, me.id),
      this.deps.quizzes.answersOf(me.id),
      this.deps.engagement.of(me.id),
      this.deps.engagement.samplesOf([me.id]),
    ]);
    const last = samples[samples.length - 1];
    return {
      name: me.name,
      class: { id: cls.id, title: cls.title },
      lesson: lesson
        ? {
            id: lesson.id,
            number: lesson.number,
            startedAt: lesson.startedAt.toISOString(),
            endedAt: lesson.endedAt?.toISOString() ?? null,
          }
        : null,
      joinedAt: me.joinedAt.toISOString(),
      leftAt: me.leftAt?.toISOString() ?? null,
      chat: chat.map((m) => ({ text: m.deleted ? '' : m.text, at: m.at.toISOString(), deleted: m.deleted })),
      answers: answers.map((a) => ({
        question: a.question,
        answer: answerText(a),
        correct: a.correct,
        ms: a.ms,
        at: a.createdAt.toISOString(),
      })),
      reactions: interactions
        .filter((i) => i.kind === 'reaction')
        .map((i) => ({ kind: String(i.data.kind ?? ''), at: i.at.toISOString() })),
      hands: interactions
        .filter((i) => i.kind === 'hand')
        .map((i) => ({ action: i.data.action === 'lower' ? 'lower' : 'raise', at: i.at.toISOString() })),
      engagement: {
        score: last ? Math.round(last.score) : null,
        samples: samples.map((s) => ({
          at: s.at.toISOString(),
          score: Math.round(s.score),
          watching: s.watching,
        })),
      },
      notice: DATA_NOTICE,
    };
  }

  /** A lesson's engagement (its teacher, admin, the class's monitors). */
  async lesson(p: Principal, lessonId: string) {
    const lesson = await this.deps.lessons.byId(lessonId);
    if (!lesson) throw new AirError('NOT_FOUND', 'No such lesson.');
    const cls = await this.deps.classes.byId(lesson.classId);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    check(canMonitorClass(p, cls));
    const [latest, series] = await Promise.all([
      this.deps.engagement.latest(lesson.id),
      this.deps.engagement.series(lesson.id),
    ]);
    const students = latest
      .map((s) => ({ id: s.participantId, name: s.name, score: Math.round(s.score) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return {
      lessonId: lesson.id,
      class: classScore(students.map((s) => s.score)),
      students,
      series: series.map((s) => ({ at: s.at.toISOString(), class: s.class })),
    };
  }
}
