// The two calls the page makes. The API lives on another origin, so each is a
// CORS request with credentials. Its address comes from the server that served
// the page (config.js, WEB_API_URL), never from the page's own URL, so a crafted
// link cannot send a person's number and code elsewhere.
import { API_BASE } from './config.js'

/** POST JSON; resolves to { status, body } or throws on a network error (CORS refusals land there too). */
async function post(path, payload) {
  const res = await fetch(`${API_BASE}${path}`, {
    method: 'POST',
    credentials: 'include',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  })
  const body = await res.json().catch(() => ({}))
  if (typeof body.retryAfter !== 'number' && res.headers.get('retry-after')) body.retryAfter = Number(res.headers.get('retry-after'))
  return { status: res.status, body }
}

export const requestCode = (mobile, purpose, extra) => post('/v1/sms-codes', { mobile, purpose, ...extra })
export const verifyCode = (mobile, purpose, code) => post('/v1/sms-codes/verify', { mobile, purpose, code })
