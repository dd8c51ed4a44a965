import { ConfigError, PURPOSES, type Config, type Purpose } from '@sms-verify/shared'

type Templates = Partial<Record<Purpose, string>>

/**
 * Refuses to start a provider without its variables: one line naming every
 * missing one, so an operator fixes them all at once.
 */
export function requireProviderConfig<K extends keyof Config>(
  provider: string, config: Config, names: readonly K[], templatesVar: 'TENCENT_SMS_TEMPLATES' | 'RONGLIAN_TEMPLATES',
): { [P in K]-?: NonNullable<Config[P]> } & { templates: Record<Purpose, string> } {
  const missing: string[] = names.filter((n) => config[n] === undefined || config[n] === '').map(String)
  const templates = config[templatesVar] as Templates
  const noTemplate = PURPOSES.filter((p) => !templates[p])
  if (noTemplate.length > 0) missing.push(`${templatesVar} (no template for ${noTemplate.join(', ')})`)
  if (missing.length > 0) {
    throw new ConfigError(`invalid configuration: SMS_PROVIDER ${provider} needs ${missing.join(', ')}`)
  }
  return { ...(config as object), templates: templates as Record<Purpose, string> } as never
}
