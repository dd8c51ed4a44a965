import { randomBytes } from 'node:crypto'

/**
 * The secrets a deployment must have (CODE_PEPPER, JOB_SEAL_KEY), made once per
 * test process: spawned processes in cluster mode refuse to start without them,
 * and every process of one test shares them, as replicas of one deployment do.
 */
export const TEST_SECRETS: Readonly<{ CODE_PEPPER: string, JOB_SEAL_KEY: string }> = Object.freeze({
  CODE_PEPPER: randomBytes(32).toString('base64'),
  JOB_SEAL_KEY: randomBytes(32).toString('base64'),
})
