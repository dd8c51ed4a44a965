export type TestEnv = Record<string, string | number>

/** Environment variables as the process would see them: every value a string. */
export const stringEnv = (env: TestEnv): Record<string, string> =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]))

/**
 * The environment every in-process test config starts from, for the real parser
 * (`loadConfig(configSchema, testEnv(...))`; this package imports nothing from shared):
 * silent logs and per-IP limits out of the way, unless a test sets its own.
 */
export function testEnv(overrides: TestEnv = {}): Record<string, string> {
  return stringEnv({
    LOG_LEVEL: 'silent',
    SEND_LIMIT_PER_IP_PER_HOUR: 100_000,
    RATE_LIMIT_PER_MINUTE: 100_000,
    ...overrides,
  })
}
