// The sign-up page: plain ES modules, no build. One flow per purpose
// (#register, #login, #reset_password), each: number → code → verified.
//
// A starting point for a product: in production the verify step belongs to
// your backend (it calls the API itself, or checks a verification token), never
// to the page's word; see docs/integration.md. Point `#next` at your next page.
import { requestCode, verifyCode } from './api.js'
import { mountCaptcha } from './captcha.js'
import { CAPTCHA } from './config.js'
import { createCountdown } from './countdown.js'
import { errorText, initialLang, t } from './i18n.js'
import { renderVerifiedNote } from './verified-note.js'

const FLOWS = ['register', 'login', 'reset_password']
const $ = (id) => document.getElementById(id)
const mobile = $('mobile'), code = $('code'), send = $('send'), verify = $('verify'), message = $('message')

let lang = initialLang(localStorage.getItem('lang'), navigator.language)
let flow = 'register'
let verifiedMobile = ''

// null when the API asks for no captcha, or when its widget could not load (the API then answers captcha_required)
const captcha = mountCaptcha(CAPTCHA, $('captcha')).catch(() => {
  say(t(lang, 'error.captcha_unavailable'), 'error')
  return null
})

const countdown = createCountdown(send, { label: (s) => t(lang, 'resend', s), idle: () => t(lang, 'send') })

function say(text, state = 'info') {
  message.textContent = text
  message.dataset.state = text ? state : 'idle'
}

/** Puts every text in the current language and flow. */
function render() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en'
  document.title = `${t(lang, `${flow}.title`)} · sms-verify`
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(lang, el.dataset.i18n)
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(lang, el.dataset.i18nPlaceholder)
  $('title').textContent = t(lang, `${flow}.title`)
  verify.textContent = t(lang, `${flow}.submit`)
  $('done-title').textContent = t(lang, `${flow}.done`)
  $('done-text').textContent = verifiedMobile ? t(lang, `${flow}.doneText`, verifiedMobile) : ''
  $('next').textContent = t(lang, `${flow}.next`)
  const other = lang === 'zh' ? 'en' : 'zh'
  $('lang').textContent = other === 'en' ? 'English' : '中文'
  $('lang').lang = other === 'en' ? 'en' : 'zh-CN'
  for (const tab of document.querySelectorAll('[data-flow]')) tab.setAttribute('aria-selected', String(tab.dataset.flow === flow))
  countdown.show(flow)
}

function showStep(step) {
  $('ask').hidden = step !== 'ask'
  $('done').hidden = step !== 'done'
}

function openFlow() {
  const wanted = location.hash.slice(1)
  flow = FLOWS.includes(wanted) ? wanted : 'register'
  verifiedMobile = ''
  code.value = ''
  say('')
  showStep('ask')
  render()
}

/** 138 1234 5678 → 138****5678, for the success text. */
const masked = (m) => {
  const digits = m.replace(/\D/g, '').replace(/^86(?=1\d{10}$)/, '')
  return digits.length >= 8 ? `${digits.slice(0, 3)}****${digits.slice(-4)}` : m
}

send.addEventListener('click', async () => {
  const number = mobile.value.trim()
  if (!number) {
    say(t(lang, 'enterMobile'), 'error')
    return mobile.focus()
  }
  send.disabled = true
  const purpose = flow
  const widget = await captcha
  const answer = widget ? await widget.answer() : {}
  if (!answer) {
    say(t(lang, 'error.captcha_required'), 'error')
    return countdown.render()
  }
  try {
    const { status, body } = await requestCode(number, purpose, answer)
    widget?.reset() // an answer is good for one send
    if (status === 202) {
      say(t(lang, 'sent', Math.max(1, Math.round((body.expiresIn ?? 300) / 60))), 'success')
      countdown.start(purpose, body.resendIn ?? 60)
      code.focus()
    } else {
      say(errorText(lang, status, body), 'error')
      if (status === 429 && body.retryAfter > 0 && body.error !== 'daily_limit') countdown.start(purpose, body.retryAfter)
    }
  } catch {
    say(t(lang, 'network'), 'error')
  } finally {
    countdown.render()
  }
})

$('form').addEventListener('submit', async (event) => {
  event.preventDefault()
  if (!mobile.value.trim()) {
    say(t(lang, 'enterMobile'), 'error')
    return mobile.focus()
  }
  if (!/^\d{4,10}$/.test(code.value.trim())) {
    say(t(lang, 'enterCode'), 'error')
    return code.focus()
  }
  verify.disabled = true
  try {
    const { status, body } = await verifyCode(mobile.value.trim(), flow, code.value.trim())
    if (status === 200 && body.verified) {
      verifiedMobile = masked(mobile.value.trim())
      renderVerifiedNote($('verified-note'), body, lang)
      showStep('done')
      render()
      $('next').focus()
    } else {
      say(errorText(lang, status, body), 'error')
    }
  } catch {
    say(t(lang, 'network'), 'error')
  } finally {
    verify.disabled = false
  }
})

$('again').addEventListener('click', () => {
  mobile.value = ''
  openFlow()
  mobile.focus()
})

$('lang').addEventListener('click', () => {
  lang = lang === 'zh' ? 'en' : 'zh'
  localStorage.setItem('lang', lang)
  render()
  if (message.dataset.state !== 'idle') say('')
})

window.addEventListener('hashchange', openFlow)
openFlow()
