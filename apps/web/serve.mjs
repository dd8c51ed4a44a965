// A tiny static server for the sign-up page (node:http, no dependencies).
// `node apps/web/serve.mjs` serves apps/web/public on WEB_HOST:WEB_PORT (127.0.0.1:8080), talking
// to the API at WEB_API_URL (http://127.0.0.1:8000). The page learns that address from /config.js,
// written by this server, never from its own URL: a crafted link cannot point it at another host.
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const PUBLIC = fileURLToPath(new URL('./public/', import.meta.url))
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
}
/** The origins each captcha widget loads its script, frames and calls from (CAPTCHA_PROVIDER). */
const CAPTCHA_ORIGINS = {
  turnstile: ['https://challenges.cloudflare.com'],
  hcaptcha: ['https://hcaptcha.com', 'https://*.hcaptcha.com'],
  tencent: ['https://turing.captcha.qcloud.com', 'https://*.captcha.qcloud.com', 'https://*.gtimg.com'],
}
const headersFor = (apiOrigin, captchaProvider) => {
  const widget = (CAPTCHA_ORIGINS[captchaProvider] ?? []).join(' ')
  return {
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // the page may talk to its own origin, the one API it is configured for and its captcha widget, nothing else
    'content-security-policy': `default-src 'self'; script-src 'self' ${widget}; frame-src ${widget || "'none'"}; style-src 'self' ${widget}; connect-src 'self' ${apiOrigin} ${widget}; img-src 'self' data: ${widget}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`.replace(/ +;/g, ';'),
  }
}

/** Resolves a URL path inside `root`, or undefined when it would leave it. */
function resolvePath(root, urlPath) {
  let path
  try { path = decodeURIComponent(urlPath.split('?')[0]) } catch { return undefined }
  if (path.endsWith('/')) path += 'index.html'
  const full = normalize(join(root, path))
  return full.startsWith(root.endsWith(sep) ? root : root + sep) ? full : undefined
}

/**
 * Serves `root` (default: the page). Resolves once listening with the bound
 * address and a `close()` that also ends kept-alive connections.
 */
export async function serveStatic({ port = 8080, host = '127.0.0.1', root = PUBLIC, api = 'http://127.0.0.1:8000', captcha } = {}) {
  const apiOrigin = new URL(api).origin
  if (captcha && !CAPTCHA_ORIGINS[captcha.provider]) throw new Error(`unknown captcha provider ${captcha.provider}`)
  const HEADERS = headersFor(apiOrigin, captcha?.provider)
  const config = `export const API_BASE = ${JSON.stringify(apiOrigin)}\nexport const CAPTCHA = ${JSON.stringify(captcha ? { provider: captcha.provider, siteKey: captcha.siteKey } : null)}\n`
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if ((req.url ?? '').split('?')[0] === '/config.js') {
      res.writeHead(200, { 'content-type': TYPES['.js'], 'content-length': Buffer.byteLength(config), ...HEADERS })
      res.end(req.method === 'HEAD' ? undefined : config)
      return
    }
    const file = resolvePath(root, req.url ?? '/')
    const info = file && await stat(file).catch(() => undefined)
    if (!file || !info?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...HEADERS }).end('not found\n')
      return
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': info.size, ...HEADERS })
    if (req.method === 'HEAD') return res.end()
    createReadStream(file).pipe(res)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const address = server.address()
  const shownHost = address.address.includes(':') ? `[${address.address}]` : address.address
  return {
    server,
    port: address.port,
    url: `http://${shownHost}:${address.port}`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
}

/**
 * CAPTCHA_PROVIDER and the public key of its widget: CAPTCHA_SITE_KEY (Tencent: the
 * CaptchaAppId, so TENCENT_CAPTCHA_APP_ID serves when it is unset). Exits with one line when missing.
 */
function captchaFromEnv(env) {
  const provider = env.CAPTCHA_PROVIDER || undefined
  if (!provider) return undefined
  const siteKey = env.CAPTCHA_SITE_KEY || (provider === 'tencent' ? env.TENCENT_CAPTCHA_APP_ID : undefined)
  if (!CAPTCHA_ORIGINS[provider] || !siteKey) {
    process.stderr.write(`invalid configuration: CAPTCHA_PROVIDER=${provider} needs CAPTCHA_SITE_KEY for the sign-up page${CAPTCHA_ORIGINS[provider] ? '' : ' (and one of turnstile, hcaptcha, tencent)'}\n`)
    process.exit(1)
  }
  return { provider, siteKey }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const web = await serveStatic({
    captcha: captchaFromEnv(process.env),
    port: Number(process.env.WEB_PORT ?? 8080),
    host: process.env.WEB_HOST ?? '127.0.0.1',
    api: process.env.WEB_API_URL ?? 'http://127.0.0.1:8000',
  })
  console.log(JSON.stringify({ level: 30, time: Date.now(), name: 'web', url: web.url, msg: 'web listening' }))
  const stop = () => web.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
