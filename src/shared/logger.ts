import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths redacted from every log line: tokens, passwords, keys never reach the logs. */
export const REDACT_PATHS = [
  'token',
  'jwt',
  'password',
  'secret',
  'key',
  'privateKey',
  'nodeToken',
  '*.nodeToken',
  'turnSecret',
  '*.turnSecret',
  'metricsToken',
  '*.metricsToken',
  'credential',
  '*.credential',
  'authorization',
  '*.token',
  '*.jwt',
  '*.password',
  '*.secret',
  '*.privateKey',
  'req.headers.authorization',
  'req.headers.cookie',
];

/** Creates the root logger. `level: 'silent'` for tests. */
export function createLogger(opts: { level?: string; pretty?: boolean } = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: undefined,
  };
  return pino(options);
}

/** Removes `token=` / `jwt=` query values from a URL or stream name before it is logged. */
export function redactUrl(s: string): string {
  return s.replace(/([?&](?:token|jwt|key)=)[^&\s]*/gi, '$1[redacted]');
}
