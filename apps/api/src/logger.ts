import { pino, type DestinationStream, type Logger } from 'pino'
import { bufferedStdout, loggerOptions, maskMobilesIn } from '@sms-verify/shared'

/**
 * The API's pino logger: the shared options (masked mobiles, redacted codes)
 * plus a request serializer whose URL is masked too, since the legacy route
 * carries the mobile in its path.
 */
/** The legacy route takes the captcha answer in its query: a log line has no use for it. */
const hideCaptchaAnswers = (url: string) => url.replace(/([?&]captcha(?:Token|Randstr)=)[^&]*/g, '$1[hidden]')

export function createApiLogger(level: string, destination?: DestinationStream): Logger {
  const base = loggerOptions(level, 'api')
  const options = {
    ...base,
    serializers: {
      ...base.serializers,
      req: (req: { method: string, url: string, host?: string, ip?: string }) => ({
        method: req.method, url: hideCaptchaAnswers(maskMobilesIn(req.url)), host: req.host, remoteAddress: req.ip,
      }),
    },
  }
  return pino(options, destination ?? bufferedStdout())
}
