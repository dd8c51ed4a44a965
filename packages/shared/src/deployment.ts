import { type Config, ConfigError, configSchema, loadConfig } from './config.js'

/** How the README and every message tell an operator to make a secret. */
export const MAKE_SECRET = 'openssl rand -base64 32'

/** The least CODE_PEPPER length a deployment accepts: 32 characters, as `openssl rand -base64 32` gives 44. */
export const MIN_PEPPER_LENGTH = 32

/**
 * Why this configuration is a deployment (not a laptop), or undefined. A
 * cluster is never a local try-out, and replicas must share their secrets, so
 * REDIS_CLUSTER_NODES counts as production whatever NODE_ENV says.
 */
export function deploymentReason(config: Pick<Config, 'NODE_ENV' | 'REDIS_CLUSTER_NODES'>): string | undefined {
  if (config.NODE_ENV === 'production') return 'NODE_ENV=production'
  if (config.REDIS_CLUSTER_NODES.length > 0) return 'REDIS_CLUSTER_NODES is set'
  return undefined
}

/**
 * What a deployment refuses: without a shared pepper each replica rejects the
 * others' codes (and four such verifies burn a code); without a seal key codes
 * sit readable in the stream; `*` origins or hosts undo the CORS and Host checks.
 */
export function deploymentProblems(config: Config): string[] {
  if (deploymentReason(config) === undefined) return []
  const problems: string[] = []
  const pepper = config.CODE_PEPPER
  if (pepper === undefined) problems.push(`CODE_PEPPER must be set (at least ${MIN_PEPPER_LENGTH} characters: ${MAKE_SECRET})`)
  else if (pepper.length < MIN_PEPPER_LENGTH) problems.push(`CODE_PEPPER must be at least ${MIN_PEPPER_LENGTH} characters (${MAKE_SECRET})`)
  if (config.JOB_SEAL_KEY === undefined) problems.push(`JOB_SEAL_KEY must be set (${MAKE_SECRET})`)
  if (config.CORS_ORIGINS.includes('*')) problems.push('CORS_ORIGINS must list origins, not *')
  if (config.ALLOWED_HOSTS.includes('*')) problems.push('ALLOWED_HOSTS must list host names, not *')
  return problems
}

/**
 * The configuration of the API and the sender: loadConfig plus the deployment
 * rules, so both processes refuse the same things with one line. The CLI reads
 * Redis only and uses loadConfig alone.
 */
export function loadServiceConfig(env: Record<string, string | undefined>): Config {
  const config = loadConfig(configSchema, env)
  const problems = deploymentProblems(config)
  if (problems.length > 0) throw new ConfigError(`invalid configuration for a deployment (${deploymentReason(config)}): ${problems.join('; ')}`)
  return config
}

/** A local run without a secret works; each warning says what that costs and what to set in production. */
export function localOnlyWarnings(config: Pick<Config, 'CODE_PEPPER' | 'JOB_SEAL_KEY'>, uses: ReadonlyArray<'CODE_PEPPER' | 'JOB_SEAL_KEY'>): string[] {
  const warnings: string[] = []
  const advice = (name: string) => `fine for local use; set ${name} in production (${MAKE_SECRET})`
  if (uses.includes('CODE_PEPPER') && config.CODE_PEPPER === undefined) {
    warnings.push(`CODE_PEPPER is unset: a random pepper per start, so codes do not survive a restart and replicas reject each other's codes; ${advice('CODE_PEPPER')}`)
  }
  if (uses.includes('JOB_SEAL_KEY') && config.JOB_SEAL_KEY === undefined) {
    warnings.push(`JOB_SEAL_KEY is unset: codes travel in the clear inside stream entries; ${advice('JOB_SEAL_KEY')}`)
  }
  return warnings
}
