/**
 * Settles with the signal's abort as soon as it fires, whatever `work` does.
 * The SDK's own timeout is a backstop; the sender's deadline is this signal.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal))
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

export class ProviderAbortError extends Error {
  override name = 'ProviderAbortError'
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return new ProviderAbortError(reason instanceof Error ? reason.message : 'provider call aborted')
}
