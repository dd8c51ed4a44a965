import { ConfigError, PURPOSES, type Config, type Purpose } from '@sms-verify/shared'

type Templates = Partial<Record<Purpose, string>>

/**
 * Refuses to start a provider without its variables: one line naming every
 * missing one, so an operator fixes them all at once. Templates are needed for
 * at least one purpose (the contract's own example names two of three); a code
 * for a purpose without one fails for good with a reason that names the variable.
 */
export function requireProviderConfig<K extends keyof Config>(
  provider: string, config: Config, names: readonly K[], templatesVar: 'TENCENT_SMS_TEMPLATES' | 'RONGLIAN_TEMPLATES' | 'ALIYUN_SMS_TEMPLATES',
): { [P in K]-?: NonNullable<Config[P]> } & { templates: Templates } {
  const missing: string[] = names.filter((n) => config[n] === undefined || config[n] === '').map(String)
  const templates = config[templatesVar] as Templates
  if (PURPOSES.every((p) => !templates[p])) missing.push(`${templatesVar} (no template for ${PURPOSES.join(', ')})`)
  if (missing.length > 0) {
    throw new ConfigError(`invalid configuration: SMS_PROVIDER ${provider} needs ${missing.join(', ')}`)
  }
  return { ...(config as object), templates } as never
}

/** The purposes SMS_PROVIDER's providers have no template for (main.ts warns about them at startup). */
export function purposesWithoutTemplate(config: Config): Array<{ provider: string, purposes: Purpose[] }> {
  const vars = { tencent: 'TENCENT_SMS_TEMPLATES', ronglian: 'RONGLIAN_TEMPLATES', aliyun: 'ALIYUN_SMS_TEMPLATES' } as const
  return config.SMS_PROVIDER.flatMap((name) => {
    if (name === 'console') return []
    const templates = config[vars[name]] as Templates
    const purposes = PURPOSES.filter((p) => !templates[p])
    return purposes.length > 0 ? [{ provider: name, purposes }] : []
  })
}

/** The permanent outcome of a code whose purpose has no template. */
export const noTemplateFor = (provider: string, purpose: Purpose, templatesVar: string) =>
  ({ kind: 'permanent' as const, error: `no ${provider} template for purpose ${purpose} (set it in ${templatesVar})` })
