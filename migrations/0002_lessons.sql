-- AirClass schema, version 2: a class is a course that meets many times; each start → end is a
-- lesson (docs/classroom.md). Ending is final: `classes.epoch` counts the ends, and every
-- class-scoped token carries the epoch it was issued in. Sessions can be revoked (logout,
-- disabled account, reset password) and monitor links are stored so they can be revoked.

-- One start → end of a class.
CREATE TABLE lessons (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  class_id   uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  number     integer     NOT NULL CHECK (number >= 1),
  started_at timestamptz NOT NULL DEFAULT now(),
  ended_at   timestamptz
);
CREATE UNIQUE INDEX lessons_class_number_key ON lessons (class_id, number);
-- At most one running lesson per class (two replicas starting at once: one wins).
CREATE UNIQUE INDEX lessons_class_running_key ON lessons (class_id) WHERE ended_at IS NULL;

-- Classes: scheduled (no lesson running) | live (a lesson runs) | archived (read-only).
ALTER TABLE classes
  ADD COLUMN epoch         integer     NOT NULL DEFAULT 0,
  ADD COLUMN archived_at   timestamptz,
  ADD COLUMN last_ended_at timestamptz;
DROP INDEX classes_join_code_active_key;
DROP INDEX classes_join_code_ended_idx;
ALTER TABLE classes DROP CONSTRAINT classes_status_check;
-- A class that had ended (version 1: final) is archived now; its one lesson is kept.
INSERT INTO lessons (class_id, number, started_at, ended_at)
  SELECT id, 1, coalesce(started_at, created_at), coalesce(ended_at, now())
    FROM classes WHERE status = 'ended' AND started_at IS NOT NULL;
INSERT INTO lessons (class_id, number, started_at)
  SELECT id, 1, coalesce(started_at, now()) FROM classes WHERE status = 'live';
UPDATE classes
   SET status = 'archived', epoch = 1, archived_at = coalesce(ended_at, now()), last_ended_at = ended_at
 WHERE status = 'ended';
ALTER TABLE classes ADD CONSTRAINT classes_status_check
  CHECK (status IN ('scheduled', 'live', 'archived'));
-- A join code is unique among classes that are not archived; an archived class's code may return.
CREATE UNIQUE INDEX classes_join_code_active_key ON classes (join_code) WHERE status <> 'archived';
-- "This class is archived" answers for a code typed after archiving (most recent first).
CREATE INDEX classes_join_code_archived_idx ON classes (join_code, archived_at) WHERE status = 'archived';

-- Attendance and chat belong to a lesson (null: joined while no lesson was running).
ALTER TABLE participants
  ADD COLUMN lesson_id  uuid REFERENCES lessons (id) ON DELETE SET NULL,
  ADD COLUMN removed_at timestamptz;
UPDATE participants p SET lesson_id = l.id FROM lessons l WHERE l.class_id = p.class_id;
CREATE INDEX participants_lesson_idx ON participants (lesson_id, joined_at);
ALTER TABLE chat_messages ADD COLUMN lesson_id uuid REFERENCES lessons (id) ON DELETE SET NULL;
UPDATE chat_messages m SET lesson_id = l.id FROM lessons l WHERE l.class_id = m.class_id;

-- Accounts: disabled by an admin; sessions issued before `sessions_valid_after` are refused.
ALTER TABLE users
  ADD COLUMN disabled_at          timestamptz,
  ADD COLUMN sessions_valid_after timestamptz;

-- Tokens revoked before their expiry (sign-out); rows past `expires_at` may be deleted.
CREATE TABLE revoked_tokens (
  jti        text        PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 64),
  expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);

-- Monitor share links, so that a teacher can list and revoke them.
CREATE TABLE monitor_links (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  class_id   uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  created_by uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX monitor_links_class_idx ON monitor_links (class_id, created_at);
