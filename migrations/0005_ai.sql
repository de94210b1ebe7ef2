-- AirClass schema, version 5: AI settings (issue 10). Nothing goes to an AI provider unless the
-- teacher turned it on for the class (off by default); provider keys are stored sealed
-- (AES-256-GCM under the master key, src/control/ai/secret-box.ts), never in clear.
ALTER TABLE classes
  ADD COLUMN ai_enabled  boolean NOT NULL DEFAULT false,
  ADD COLUMN ai_provider text    NOT NULL DEFAULT 'builtin' CHECK (ai_provider IN ('builtin', 'gemini'));

-- Secrets of the school (one row per provider key). `last4` is what the API shows.
CREATE TABLE secrets (
  name       text        PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
  sealed     text        NOT NULL,
  last4      text        NOT NULL CHECK (length(last4) <= 4),
  updated_at timestamptz NOT NULL DEFAULT now()
);
