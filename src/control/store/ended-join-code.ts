/**
 * "Ended" versus "wrong": `ClassRepo.byJoinCode` finds only classes that are not ended (an
 * ended class's code is free again), so a student typing the code of a class that just ended
 * would hear "no such code". This finds the most recently ended class with a code, ended
 * within `withinMs`, so the join can answer CLASS_ENDED instead. Written by the classroom
 * side on the store's `db`; a candidate to fold into `ClassRepo`.
 */
import { and, desc, eq, gt } from 'drizzle-orm';
import type { ClassRecord, ClassRepo } from './types.ts';
import { classes } from './schema.ts';
import { guard, type Db } from './sql.ts';

/** Looks up recently ended classes by join code. */
export type EndedByJoinCode = (code: string) => Promise<ClassRecord | undefined>;

/** Builds the lookup over the store's database and class repository. */
export function endedByJoinCode(
  db: Db,
  repo: Pick<ClassRepo, 'byId'>,
  withinMs: number = 7 * 24 * 3600_000,
): EndedByJoinCode {
  return async (code) => {
    if (!/^[0-9]{6}$/.test(code)) return undefined;
    const since = new Date(Date.now() - withinMs);
    const rows = await guard(() =>
      db
        .select({ id: classes.id })
        .from(classes)
        .where(and(eq(classes.joinCode, code), eq(classes.status, 'ended'), gt(classes.endedAt, since)))
        .orderBy(desc(classes.endedAt))
        .limit(1),
    );
    const id = rows[0]?.id;
    return id ? repo.byId(id) : undefined;
  };
}
