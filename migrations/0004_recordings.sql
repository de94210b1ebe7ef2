-- AirClass schema, version 4: recordings (issue 9) and what the dashboard reads.
-- src/control/store/schema-recording.ts mirrors it.

-- The placeholder of version 1 was never used.
DROP TABLE recordings;

-- One recording: a live stretch of a lesson remuxed to HLS on disk in <dataDir>/recordings/<id>/.
-- A lesson usually has one; a teacher away for longer than the grace and back makes a second.
-- status: recording (being written) | complete (closed normally) | interrupted (the node died;
-- repaired and closed on restart) | stopped (the disk filled up, or a write failed).
CREATE TABLE recordings (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  class_id    uuid        NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  lesson_id   uuid        REFERENCES lessons (id) ON DELETE SET NULL,
  node        text        NOT NULL DEFAULT 'main' CHECK (length(node) BETWEEN 1 AND 64),
  status      text        NOT NULL DEFAULT 'recording'
                          CHECK (status IN ('recording', 'complete', 'interrupted', 'stopped')),
  reason      text        CHECK (reason IS NULL OR length(reason) <= 64),
  started_at  timestamptz NOT NULL DEFAULT now(),
  ended_at    timestamptz,
  duration_ms bigint      NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
  size_bytes  bigint      NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
  -- Students of the class may watch it from this moment (null: teacher and admins only).
  shared_at   timestamptz,
  deleted_at  timestamptz
);
CREATE INDEX recordings_class_idx ON recordings (class_id, started_at);
CREATE INDEX recordings_lesson_idx ON recordings (lesson_id);

-- Days a class's recordings are kept (then removed by the retention job).
ALTER TABLE classes
  ADD COLUMN retention_days integer NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 3650);

-- A student's player reported "stalled" in this 10-s bucket (the dashboard counts stalls).
ALTER TABLE engagement_samples ADD COLUMN stalled boolean NOT NULL DEFAULT false;
