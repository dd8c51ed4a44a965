import { cac } from 'cac'
import { ConfigError, configSchema, loadConfig } from '@sms-verify/shared'
import { deadList, deadPurge, deadReplay } from './commands/dead.js'
import { stats } from './commands/stats.js'
import { status } from './commands/status.js'
import { tail } from './commands/tail.js'
import { createContext, type Context, type Output } from './context.js'
import { CliError, EXIT, usageError } from './errors.js'

type Action = (ctx: Context) => Promise<void>

const wholeNumber = (name: string, v: unknown): number => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw usageError(`--${name} must be a whole number, got ${String(v)}`)
  return n
}

/** The program; each command's action only picks the module that does the work. */
function program(select: (a: Action) => void) {
  const cli = cac('sms')
  cli.option('--json', 'print machine-readable JSON')
  cli.command('stats', 'stream length, lag, pending per consumer, dead letters and sends in the last minute, per partition and summed')
    .action(() => select((ctx) => stats(ctx)))
  cli.command('tail', 'follow new jobs on every partition, decoded and masked, until Ctrl-C')
    .option('--count <n>', 'stop after n jobs', { default: 0 })
    .option('--block <ms>', 'longest single XREAD BLOCK', { default: 2000 })
    .action((o: { count: unknown, block: unknown }) => select((ctx) => tail(ctx, { count: wholeNumber('count', o.count), blockMs: wholeNumber('block', o.block) })))
  cli.command('dead <action> [id]', 'dead letters: `dead list`, `dead replay <entryId|requestId|--all>`, `dead purge --yes`')
    .option('--all', 'replay: every dead letter')
    .option('--yes', 'purge: really delete')
    .option('--partition <p>', 'replay: the partition of the id, when several hold it')
    .option('--limit <n>', 'list: at most n entries', { default: 1000 })
    .action((action: string, id: string | undefined, o: { all?: boolean, yes?: boolean, limit: unknown, partition?: unknown }) => {
      if (action === 'list') {
        if (id !== undefined) throw usageError('dead list takes no id')
        return select((ctx) => deadList(ctx, wholeNumber('limit', o.limit)))
      }
      if (action === 'replay') return select((ctx) => deadReplay(ctx, id, o.all === true, o.partition === undefined ? undefined : wholeNumber('partition', o.partition)))
      if (action === 'purge') {
        if (id !== undefined) throw usageError('dead purge takes no id; it deletes every dead letter')
        return select((ctx) => deadPurge(ctx, o.yes === true))
      }
      throw usageError(`unknown dead action: ${action} (list, replay, purge)`)
    })
  cli.command('status <requestId>', "a request's status record")
    .action((id: string) => select((ctx) => status(ctx, String(id))))
  cli.help()
  return cli
}

/** Runs one command; returns the exit code. Never throws. */
export async function run(argv: readonly string[], env: Record<string, string | undefined>, io: Output): Promise<number> {
  const json = argv.includes('--json')
  const fail = (err: CliError) => {
    if (json) io.out(JSON.stringify({ error: err.code, message: err.message }))
    io.err(`sms: ${err.message}`)
    return err.exitCode
  }
  let action: Action | undefined
  let cli: ReturnType<typeof program>
  try {
    cli = program((a) => { action = a })
    const parsed = cli.parse(['node', 'sms', ...argv], { run: false })
    if (parsed.options.help) return EXIT.ok
    if (!cli.matchedCommand) {
      cli.outputHelp()
      return parsed.args.length > 0 ? fail(usageError(`unknown command: ${parsed.args[0]}`)) : EXIT.usage
    }
    await cli.runMatchedCommand()
  } catch (err) {
    if (err instanceof CliError) return fail(err)
    // cac reports missing arguments and unknown options by throwing CACError.
    if (err instanceof Error && err.name === 'CACError') return fail(usageError(err.message))
    return fail(new CliError(err instanceof Error ? err.message : String(err)))
  }
  let ctx: Context
  try {
    ctx = createContext(loadConfig(configSchema, env), json, io)
  } catch (err) {
    return fail(new CliError(err instanceof ConfigError ? err.message : String(err), EXIT.error, 'invalid_config'))
  }
  try {
    await action!(ctx)
    return EXIT.ok
  } catch (err) {
    if (err instanceof CliError) return fail(err)
    const message = err instanceof Error ? err.message : String(err)
    const where = ctx.cluster ? ctx.config.REDIS_CLUSTER_NODES.join(',') : ctx.config.REDIS_URL.replace(/\/\/[^@/]*@/, '//***@')
    return fail(new CliError(/connect|closed|ECONN|max retries/i.test(message) ? `cannot reach Redis at ${where}` : message, EXIT.error, 'redis_error'))
  } finally {
    ctx.close()
  }
}
