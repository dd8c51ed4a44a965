/** Exit codes, for scripts: 0 ok, 1 error, 2 usage, 3 not found. */
export const EXIT = { ok: 0, error: 1, usage: 2, notFound: 3 } as const

export class CliError extends Error {
  override name = 'CliError'
  constructor(message: string, readonly exitCode: number = EXIT.error, readonly code = 'error') {
    super(message)
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage, 'usage')
export const notFound = (message: string) => new CliError(message, EXIT.notFound, 'not_found')
