// The sign-up page: plain ES module, no build. The API lives on another
// origin, so every call is a CORS request with credentials.
// The API's address comes from the server that served this page (WEB_API_URL), never from
// the page's own URL, so a crafted link cannot send a person's number and code elsewhere.
import { API_BASE as apiBase, CAPTCHA } from './config.js'
import { mountCaptcha } from './captcha.js'

const COOLDOWN_SECONDS = 60

const $ = (id) => document.getElementById(id)
const mobile = $('mobile'), purpose = $('purpose'), code = $('code')
const send = $('send'), verify = $('verify'), message = $('message')
const sendLabel = send.textContent
$('api-base').textContent = apiBase
// null when the API asks for no captcha, or when its widget could not load (the API will then say captcha_required)
const captcha = mountCaptcha(CAPTCHA, $('captcha')).catch(() => {
  say('人机验证加载失败。The captcha could not be loaded; sending a code may be refused.', 'error')
  return null
})

function say(text, state = 'info') {
  message.textContent = text
  message.dataset.state = state
}

/** POST JSON; resolves to { status, body } or throws a network error (CORS refusals land here too). */
async function post(path, payload) {
  const res = await fetch(`${apiBase}${path}`, {
    method: 'POST',
    credentials: 'include',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  })
  const body = await res.json().catch(() => ({}))
  return { status: res.status, body, retryAfter: Number(body.retryAfter ?? res.headers.get('retry-after') ?? 0) }
}

const networkError = () => say(`网络错误：无法连接验证服务。Network error: the verification service at ${apiBase} could not be reached.`, 'error')

let timer
function countdown(seconds) {
  clearInterval(timer)
  let left = Math.max(1, Math.ceil(seconds))
  const tick = () => {
    if (left <= 0) {
      clearInterval(timer)
      send.disabled = false
      send.textContent = sendLabel
      return
    }
    send.disabled = true
    send.textContent = `${left} 秒后重发 / Resend in ${left}s`
    left--
  }
  tick()
  timer = setInterval(tick, 1000)
}

send.addEventListener('click', async () => {
  if (!mobile.value.trim()) {
    say('请输入手机号。Please enter your mobile number.', 'error')
    return mobile.focus()
  }
  send.disabled = true
  const widget = await captcha
  const answer = widget ? await widget.answer() : {}
  if (!answer) {
    say('请先完成人机验证。Please complete the captcha first.', 'error')
    send.disabled = false
    return
  }
  try {
    const { status, body, retryAfter } = await post('/v1/sms-codes', { mobile: mobile.value.trim(), purpose: purpose.value, ...answer })
    widget?.reset() // an answer is good for one send
    if (status === 202) {
      const minutes = Math.round((body.expiresIn ?? 300) / 60)
      say(`验证码已发送，${minutes} 分钟内有效。Code sent; it is valid for ${minutes} minutes.`, 'success')
      countdown(body.resendIn ?? COOLDOWN_SECONDS)
      code.focus()
    } else if (status === 429 && retryAfter > 0) {
      say(body.message ?? 'Too many requests.', 'error')
      countdown(retryAfter)
    } else {
      say(body.message ?? `Unexpected answer (${status}).`, 'error')
      send.disabled = false
    }
  } catch {
    networkError()
    send.disabled = false
  }
})

$('form').addEventListener('submit', async (event) => {
  event.preventDefault()
  if (!/^\d{4,10}$/.test(code.value.trim())) {
    say('请输入短信中的数字验证码。Please enter the digits from the text message.', 'error')
    return code.focus()
  }
  verify.disabled = true
  try {
    const { status, body } = await post('/v1/sms-codes/verify', { mobile: mobile.value.trim(), purpose: purpose.value, code: code.value.trim() })
    if (status === 200 && body.verified) {
      // The token is for the app's backend (docs/integration.md): said, never shown or logged.
      say(body.token
        ? '验证成功，已签发验证令牌。Verified — a verification token was issued for your app\'s backend.'
        : '验证成功！Verified — your number is confirmed.', 'success')
      clearInterval(timer)
      return
    }
    const left = typeof body.attemptsLeft === 'number' ? ` (${body.attemptsLeft} 次机会 / tries left)` : ''
    say(`${body.message ?? `Unexpected answer (${status}).`}${left}`, 'error')
  } catch {
    networkError()
  }
  verify.disabled = false
})
