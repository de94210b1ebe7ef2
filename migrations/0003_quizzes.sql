-- AirClass schema, version 3: quizzes (a bank per class, a run per push, one answer per student
-- per run), interactions (what a student did, for "my data" and engagement) and engagement
-- samples per lesson (docs/classroom.md). src/control/store/schema-quiz.ts mirrors it.

-- The placeholders of version 1 were never used.
DROP TABLE quiz_responses;
DROP TABLE quizzes;
DROP TABLE engagement_samples;

-- The quiz bank of a class. `correct`: option indexes (single, multiple, truefalse) or accepted
-- answers (short). Deleting a quiz keeps its runs and answers (`deleted_at`).
CREATE TABLE quizzes (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  class_id       uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  kind           text        NOT NULL CHECK (kind IN ('single', 'multiple', 'truefalse', 'short')),
  question       text        NOT NULL CHECK (length(question) BETWEEN 1 AND 500),
  options        jsonb       NOT NULL DEFAULT '[]'::jsonb,
  correct        jsonb       NOT NULL DEFAULT '[]'::jsonb,
  time_limit_sec integer     NOT NULL CHECK (time_limit_sec BETWEEN 5 AND 600),
  anonymous      boolean     NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  deleted_at     timestamptz
);
CREATE INDEX quizzes_class_idx ON quizzes (class_id, created_at);

-- One push of a quiz during a lesson. Closed by the server at `closes_at` (or by the teacher).
CREATE TABLE quiz_runs (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  quiz_id     uuid        NOT NULL REFERENCES quizzes (id) ON DELETE CASCADE,
  lesson_id   uuid        NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
  opened_at   timestamptz NOT NULL DEFAULT now(),
  closes_at   timestamptz NOT NULL,
  closed_at   timestamptz,
  revealed_at timestamptz
);
CREATE INDEX quiz_runs_quiz_idx ON quiz_runs (quiz_id, opened_at);
-- At most one open run per lesson (two replicas opening at once: one wins).
CREATE UNIQUE INDEX quiz_runs_lesson_open_key ON quiz_runs (lesson_id) WHERE closed_at IS NULL;

-- One answer per student per run; `answer_id` (the client's) makes resubmission harmless.
CREATE TABLE quiz_answers (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id         uuid        NOT NULL REFERENCES quiz_runs (id) ON DELETE CASCADE,
  participant_id uuid        NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
  answer_id      text        NOT NULL CHECK (length(answer_id) BETWEEN 1 AND 64),
  choices        jsonb,
  text           text,
  correct        boolean     NOT NULL,
  ms             integer     NOT NULL CHECK (ms >= 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT quiz_answers_run_participant_key UNIQUE (run_id, participant_id)
);
CREATE INDEX quiz_answers_participant_idx ON quiz_answers (participant_id);

-- What a student did in a lesson (reactions, hands, quiz answers; chat is in chat_messages).
CREATE TABLE interactions (
  id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  lesson_id      uuid        REFERENCES lessons (id) ON DELETE CASCADE,
  class_id       uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  participant_id uuid        NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
  kind           text        NOT NULL CHECK (kind IN ('chat', 'reaction', 'hand', 'quiz')),
  data           jsonb       NOT NULL DEFAULT '{}'::jsonb,
  at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interactions_participant_idx ON interactions (participant_id, at);
CREATE INDEX interactions_class_kind_idx ON interactions (class_id, kind, at);

-- Engagement scores per student every 10 s while a lesson runs. `at` is the 10-s bucket, so
-- two replicas sampling the same moment write one row.
CREATE TABLE engagement_samples (
  lesson_id      uuid             NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
  participant_id uuid             NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
  score          double precision NOT NULL CHECK (score BETWEEN 0 AND 100),
  watching       double precision NOT NULL CHECK (watching BETWEEN 0 AND 1),
  at             timestamptz      NOT NULL,
  CONSTRAINT engagement_samples_pkey PRIMARY KEY (lesson_id, participant_id, at)
);
CREATE INDEX engagement_samples_lesson_at_idx ON engagement_samples (lesson_id, at);
