-- AirClass schema, version 6: AI in the lesson (issue 10). Held chat messages waiting for the
-- teacher, slide snapshots with the text read from them, students' photos of their work, and
-- every AI result stored with its lesson and the provider that produced it.

-- A student's chat message the moderation hold kept back (personal information, insults).
-- Nobody but the class's staff sees it until the teacher approves it: then it becomes a
-- chat message (`message_id`) with a fresh sequence number.
CREATE TABLE chat_held (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  class_id    uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  lesson_id   uuid        REFERENCES lessons (id) ON DELETE SET NULL,
  sender_id   text        NOT NULL,
  sender_name text        NOT NULL,
  text        text        NOT NULL,
  reasons     jsonb       NOT NULL DEFAULT '[]',
  status      text        NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'approved', 'rejected')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  decided_at  timestamptz,
  message_id  uuid
);
CREATE INDEX chat_held_class_idx ON chat_held (class_id, status, created_at);

-- A snapshot of the live picture, taken when it changed, with the text read from it.
-- The PNG is `<dataDir>/slides/<lesson_id>/<id>.png`.
CREATE TABLE slides (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  class_id   uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  lesson_id  uuid        NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
  taken_at   timestamptz NOT NULL DEFAULT now(),
  width      integer     NOT NULL,
  height     integer     NOT NULL,
  text       text        NOT NULL DEFAULT '',
  -- Who read the text: 'gemini', 'tesseract', or 'none' (no reader available).
  reader     text        NOT NULL CHECK (reader IN ('gemini', 'tesseract', 'none'))
);
CREATE INDEX slides_lesson_idx ON slides (lesson_id, taken_at);

-- A student's photo of their work for the teacher. The file is
-- `<dataDir>/photos/<lesson_id>/<id>.<ext>`; `description` comes from Gemini when it is on.
CREATE TABLE photos (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  class_id       uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  lesson_id      uuid        NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
  participant_id text        NOT NULL,
  sender_name    text        NOT NULL,
  mime           text        NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'image/webp')),
  size_bytes     integer     NOT NULL,
  width          integer     NOT NULL,
  height         integer     NOT NULL,
  description    text,
  provider       text        CHECK (provider IN ('builtin', 'gemini')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  seen_at        timestamptz
);
CREATE INDEX photos_lesson_idx ON photos (lesson_id, created_at);

-- Every AI result of a lesson, the latest per (kind, subject): a quiz analysis (subject: the
-- quiz id), the chat questions, the lesson summary, a quiz drafted from a slide (subject: the
-- slide id). `provider` says which analyzer produced it.
CREATE TABLE ai_results (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  lesson_id  uuid        NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
  kind       text        NOT NULL CHECK (kind IN ('quiz', 'questions', 'summary', 'draft')),
  subject    text        NOT NULL DEFAULT '',
  provider   text        NOT NULL CHECK (provider IN ('builtin', 'gemini')),
  result     jsonb       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ai_results_lesson_kind_subject_key ON ai_results (lesson_id, kind, subject);
