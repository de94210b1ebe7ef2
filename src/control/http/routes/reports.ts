/**
 * The dashboard's reports (issue 9), from the database: `GET /api/lessons/:id/report` (JSON)
 * and `.csv`, `GET /api/classes/:id/report` (the class across its lessons) and `.csv`. The
 * class's teacher and admins only. CSV is UTF-8 with a BOM so Excel opens Korean names.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { AirError } from '../../../shared/errors.ts';
import { canManageClass, type Principal } from '../../auth/policy.ts';
import { classCsv, lessonCsv } from '../../report/csv.ts';
import type { ReportService } from '../../report/report-service.ts';
import type { ClassRepo, LessonRepo } from '../../store/types.ts';
import type { Authenticator } from '../session.ts';
import { IdParams, SECURED, errors } from '../schemas.ts';

/** CSV times in the server's own time zone (a school's), as Excel reads them: "2026-03-02 09:00:00". */
const CSV_TIMES = { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone };

/** What the report routes need. */
export interface ReportRouteDeps {
  reports: ReportService;
  classes: Pick<ClassRepo, 'byId'>;
  lessons: Pick<LessonRepo, 'byId'>;
  authenticator: Authenticator;
}

/** Reports are big and nested: documented as objects (src/control/report/types.ts has every field). */
const Report = Type.Object({}, { additionalProperties: true, description: 'See LessonReport in the docs' });
const ClassReportBody = Type.Object({}, { additionalProperties: true, description: 'See ClassReport' });

/** A file name safe in a Content-Disposition header, with the UTF-8 form for Korean titles. */
function attachment(reply: FastifyReply, base: string): void {
  const ascii = base.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'report';
  void reply.header(
    'Content-Disposition',
    `attachment; filename="${ascii}.csv"; filename*=UTF-8''${encodeURIComponent(base)}.csv`,
  );
}

/** Registers the report routes (call inside the /api context). */
export function reportRoutes(api: FastifyInstance, deps: ReportRouteDeps): void {
  const { reports, authenticator } = deps;

  const managedLesson = async (p: Principal, id: string) => {
    const lesson = await deps.lessons.byId(id);
    if (!lesson) throw new AirError('NOT_FOUND', 'No such lesson.');
    const cls = await deps.classes.byId(lesson.classId);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    if (!canManageClass(p, cls)) throw new AirError('FORBIDDEN');
    return { lesson, cls };
  };
  const managedClass = async (p: Principal, id: string) => {
    const cls = await deps.classes.byId(id);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    if (!canManageClass(p, cls)) throw new AirError('FORBIDDEN');
    return cls;
  };
  const lessonReport = async (id: string) => {
    const r = await reports.lessonReport(id);
    if (!r) throw new AirError('NOT_FOUND', 'No such lesson.');
    return r;
  };
  const classReport = async (id: string) => {
    const r = await reports.classReport(id);
    if (!r) throw new AirError('CLASS_NOT_FOUND');
    return r;
  };

  api.get<{ Params: IdParams }>(
    '/lessons/:id/report',
    {
      schema: {
        tags: ['reports'],
        summary: 'A lesson: attendance, viewers, stalls, quiz items, engagement, chat, hands, summary',
        security: SECURED,
        params: IdParams,
        response: { 200: Report, ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await managedLesson(await authenticator.require(req), req.params.id);
      return lessonReport(req.params.id);
    },
  );

  api.get<{ Params: IdParams }>(
    '/lessons/:id/report.csv',
    {
      schema: {
        tags: ['reports'],
        summary: 'A lesson, one row per student (UTF-8 CSV with BOM)',
        security: SECURED,
        params: IdParams,
        produces: ['text/csv'],
        response: errors(401, 403, 404),
      },
    },
    async (req, reply) => {
      const { cls, lesson } = await managedLesson(await authenticator.require(req), req.params.id);
      const csv = lessonCsv(await lessonReport(req.params.id), CSV_TIMES);
      attachment(reply, `${cls.title}-lesson-${lesson.number}`);
      return reply.type('text/csv; charset=utf-8').header('Cache-Control', 'no-store').send(csv);
    },
  );

  api.get<{ Params: IdParams }>(
    '/classes/:id/report',
    {
      schema: {
        tags: ['reports'],
        summary: 'A class across its lessons: attendance, accuracy, engagement, students slipping',
        security: SECURED,
        params: IdParams,
        response: { 200: ClassReportBody, ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await managedClass(await authenticator.require(req), req.params.id);
      return classReport(req.params.id);
    },
  );

  api.get<{ Params: IdParams }>(
    '/classes/:id/report.csv',
    {
      schema: {
        tags: ['reports'],
        summary: 'A class, one row per student per lesson (UTF-8 CSV with BOM)',
        security: SECURED,
        params: IdParams,
        produces: ['text/csv'],
        response: errors(401, 403, 404),
      },
    },
    async (req, reply) => {
      const cls = await managedClass(await authenticator.require(req), req.params.id);
      const [report, rows] = await Promise.all([
        classReport(req.params.id),
        reports.classStudentRows(req.params.id),
      ]);
      attachment(reply, `${cls.title}-report`);
      return reply
        .type('text/csv; charset=utf-8')
        .header('Cache-Control', 'no-store')
        .send(classCsv(report, rows, CSV_TIMES));
    },
  );
}
