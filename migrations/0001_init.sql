-- AirClass schema, version 1. Written by hand (no drizzle-kit); src/control/store/schema.ts
-- mirrors it for Drizzle, and src/control/store/migrate.test.ts checks that the two agree.
-- Runs on PostgreSQL 13+ and on PGlite (gen_random_uuid() is built in; no extensions needed).
-- Applied once, inside one transaction, by src/control/store/migrate.ts.

-- Accounts (admins and teachers). Students and monitors have no account.
CREATE TABLE users (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text        NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
  name          text        NOT NULL,
  role          text        NOT NULL CHECK (role IN ('admin', 'teacher')),
  password_hash text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are unique regardless of case (lookups use lower(email) too).
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- Classes (lessons). `seq` is the per-class sequence counter shared by every replica.
CREATE TABLE classes (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  teacher_id  uuid        NOT NULL REFERENCES users (id),
  title       text        NOT NULL,
  join_code   text        NOT NULL CHECK (join_code ~ '^[0-9]{6}$'),
  stream_key  text        NOT NULL CHECK (length(stream_key) >= 32),
  status      text        NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'live', 'ended')),
  chat_locked boolean     NOT NULL DEFAULT false,
  seq         bigint      NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  started_at  timestamptz,
  ended_at    timestamptz
);
CREATE UNIQUE INDEX classes_stream_key_key ON classes (stream_key);
-- A join code is unique among classes that are not ended; an ended class's code may return.
CREATE UNIQUE INDEX classes_join_code_active_key ON classes (join_code) WHERE status <> 'ended';
-- "This class has ended" answers for a code typed after the end (most recent first).
CREATE INDEX classes_join_code_ended_idx ON classes (join_code, ended_at) WHERE status = 'ended';
CREATE INDEX classes_teacher_idx ON classes (teacher_id, created_at);

-- Attendance: one row per join; `left_at` is set on leave.
CREATE TABLE participants (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  class_id   uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  name       text        NOT NULL,
  role       text        NOT NULL CHECK (role IN ('teacher', 'student', 'monitor')),
  joined_at  timestamptz NOT NULL DEFAULT now(),
  left_at    timestamptz
);
CREATE INDEX participants_class_idx ON participants (class_id, joined_at);

-- Chat. `seq` comes from classes.seq; `sender_id` is a participant or user id.
CREATE TABLE chat_messages (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  class_id    uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  seq         bigint      NOT NULL,
  sender_id   text        NOT NULL,
  sender_name text        NOT NULL,
  sender_role text        NOT NULL CHECK (sender_role IN ('teacher', 'student', 'monitor')),
  text        text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);
CREATE UNIQUE INDEX chat_messages_class_seq_key ON chat_messages (class_id, seq);

-- Quizzes (a later issue): a question with its options; opened and closed by the teacher.
CREATE TABLE quizzes (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  class_id   uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  question   text        NOT NULL,
  kind       text        NOT NULL DEFAULT 'choice' CHECK (kind IN ('choice', 'multi', 'text')),
  options    jsonb       NOT NULL DEFAULT '[]'::jsonb,
  answer     jsonb,
  status     text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  opened_at  timestamptz,
  closed_at  timestamptz
);
CREATE INDEX quizzes_class_idx ON quizzes (class_id, created_at);

-- One answer per student per quiz (resubmission is an idempotent upsert).
CREATE TABLE quiz_responses (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  quiz_id        uuid        NOT NULL REFERENCES quizzes (id) ON DELETE CASCADE,
  participant_id uuid        NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
  answer         jsonb       NOT NULL,
  correct        boolean,
  submitted_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT quiz_responses_quiz_participant_key UNIQUE (quiz_id, participant_id)
);
CREATE INDEX quiz_responses_participant_idx ON quiz_responses (participant_id);

-- Engagement from interactions only (DESIGN §11): playback, visibility, chat, answers, reactions.
CREATE TABLE engagement_samples (
  id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  class_id       uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  participant_id uuid        REFERENCES participants (id) ON DELETE CASCADE,
  kind           text        NOT NULL,
  value          double precision,
  data           jsonb,
  at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX engagement_samples_class_at_idx ON engagement_samples (class_id, at);
CREATE INDEX engagement_samples_participant_idx ON engagement_samples (participant_id, at);

-- Recordings (HLS on disk; `path` is relative to the data dir).
CREATE TABLE recordings (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  class_id    uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  path        text        NOT NULL,
  status      text        NOT NULL DEFAULT 'recording' CHECK (status IN ('recording', 'ready', 'failed')),
  started_at  timestamptz NOT NULL DEFAULT now(),
  ended_at    timestamptz,
  duration_ms integer,
  size_bytes  bigint
);
CREATE INDEX recordings_class_idx ON recordings (class_id, started_at);
