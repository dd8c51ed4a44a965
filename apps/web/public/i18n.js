// Every word the page shows, in Chinese and English. The API answers with
// error codes (docs/api.md); `errorText` turns each into a sentence here, so
// the page never shows the API's English `message` to a person.

export const LANGS = ['zh', 'en']

const zh = {
  'tab.register': '注册', 'tab.login': '登录', 'tab.reset_password': '重置密码',
  'register.title': '注册', 'login.title': '短信登录', 'reset_password.title': '重置密码',
  'lead': '我们会向你的手机发送一条验证码短信。',
  'mobile.label': '手机号', 'mobile.placeholder': '138 1234 5678',
  'code.label': '验证码', 'code.placeholder': '6 位数字',
  'send': '获取验证码', 'resend': (s) => `${s} 秒后重发`,
  'register.submit': '验证并继续', 'login.submit': '登录', 'reset_password.submit': '验证并继续',
  'register.done': '手机号已验证', 'login.done': '登录成功', 'reset_password.done': '手机号已确认',
  'register.doneText': (m) => `${m} 已验证。下一步：设置密码，完成注册。`,
  'login.doneText': (m) => `你已使用 ${m} 登录。`,
  'reset_password.doneText': (m) => `${m} 已确认。下一步：设置新密码。`,
  'register.next': '继续创建账号', 'login.next': '进入首页', 'reset_password.next': '设置新密码',
  'again': '验证另一个号码',
  'sent': (min) => `验证码已发送，${min} 分钟内有效。`,
  'enterMobile': '请输入手机号。', 'enterCode': '请输入短信中的数字验证码。',
  'network': '网络错误：无法连接验证服务，请稍后重试。',
  'attemptsLeft': (n) => `还可以再试 ${n} 次。`,
  'wait': (s) => `请 ${s} 秒后再试。`,
  'error.invalid_mobile': '手机号格式不正确，请检查后重新输入。',
  'error.region_not_allowed': '暂不支持该地区的手机号。',
  'error.too_frequent': '验证码发送过于频繁。',
  'error.rate_limited': '请求过于频繁。',
  'error.daily_limit': '该号码今天获取验证码的次数已达上限，请明天再试。',
  'error.carrier_limit': '运营商限制了该号码的短信频率。',
  'error.budget_exhausted': '短信服务繁忙，请稍后再试。',
  'error.unavailable': '验证服务暂时不可用，请稍后再试。',
  'error.wrong_code': '验证码不正确。',
  'error.no_code': '验证码已过期或已使用，请重新获取。',
  'error.too_many_attempts': '错误次数过多，请重新获取验证码。',
  'error.captcha_required': '请先完成人机验证。',
  'error.captcha_failed': '人机验证未通过，请重试。',
  'error.captcha_unavailable': '人机验证服务暂时不可用，请稍后再试。',
  'error.invalid_code': '验证码应为数字。',
  'error.other': (code) => `出错了，请稍后再试。（${code}）`,
}

const en = {
  'tab.register': 'Sign up', 'tab.login': 'Log in', 'tab.reset_password': 'Reset password',
  'register.title': 'Sign up', 'login.title': 'Log in with a text message', 'reset_password.title': 'Reset your password',
  'lead': 'We will text a one-time code to your phone.',
  'mobile.label': 'Mobile number', 'mobile.placeholder': '138 1234 5678',
  'code.label': 'Code', 'code.placeholder': '6 digits',
  'send': 'Get code', 'resend': (s) => `Resend in ${s}s`,
  'register.submit': 'Verify and continue', 'login.submit': 'Log in', 'reset_password.submit': 'Verify and continue',
  'register.done': 'Number verified', 'login.done': 'You are logged in', 'reset_password.done': 'Number confirmed',
  'register.doneText': (m) => `${m} is verified. Next: choose a password to finish signing up.`,
  'login.doneText': (m) => `You are logged in with ${m}.`,
  'reset_password.doneText': (m) => `${m} is confirmed. Next: choose a new password.`,
  'register.next': 'Continue to create your account', 'login.next': 'Go to the home page', 'reset_password.next': 'Choose a new password',
  'again': 'Verify another number',
  'sent': (min) => `Code sent. It is valid for ${min} minutes.`,
  'enterMobile': 'Please enter your mobile number.', 'enterCode': 'Please enter the digits from the text message.',
  'network': 'Network error: the verification service could not be reached. Please try again later.',
  'attemptsLeft': (n) => `${n} ${n === 1 ? 'try' : 'tries'} left.`,
  'wait': (s) => `Please try again in ${s} s.`,
  'error.invalid_mobile': 'That does not look like a valid mobile number.',
  'error.region_not_allowed': 'Numbers from this region are not supported.',
  'error.too_frequent': 'A code was sent to this number a moment ago.',
  'error.rate_limited': 'Too many requests.',
  'error.daily_limit': 'This number has had all its codes for today. Please try again tomorrow.',
  'error.carrier_limit': 'The carrier is limiting texts to this number.',
  'error.budget_exhausted': 'The text message service is busy. Please try again later.',
  'error.unavailable': 'The verification service is unavailable. Please try again later.',
  'error.wrong_code': 'That code is not right.',
  'error.no_code': 'That code has expired or was used. Please get a new one.',
  'error.too_many_attempts': 'Too many wrong tries. Please get a new code.',
  'error.captcha_required': 'Please complete the human check first.',
  'error.captcha_failed': 'The human check failed. Please try again.',
  'error.captcha_unavailable': 'The human check is unavailable. Please try again later.',
  'error.invalid_code': 'The code is made of digits only.',
  'error.other': (code) => `Something went wrong. Please try again later. (${code})`,
}

const MESSAGES = { zh, en }

/** The message `key` in `lang`, called with `args` when it is a function. */
export function t(lang, key, ...args) {
  const m = MESSAGES[lang][key] ?? MESSAGES.en[key] ?? key
  return typeof m === 'function' ? m(...args) : m
}

/**
 * One sentence for an API error answer: the code's text, plus how many tries
 * are left or how long to wait when the answer says so.
 */
export function errorText(lang, status, body) {
  const code = typeof body?.error === 'string' ? body.error : `http_${status}`
  const known = `error.${code}` in MESSAGES[lang]
  let text = known ? t(lang, `error.${code}`) : t(lang, 'error.other', code)
  if (typeof body?.attemptsLeft === 'number') text += ` ${t(lang, 'attemptsLeft', body.attemptsLeft)}`
  if (typeof body?.retryAfter === 'number' && body.retryAfter > 0 && code !== 'too_frequent') text += ` ${t(lang, 'wait', body.retryAfter)}`
  return text
}

/** zh for a Chinese browser, en otherwise, unless the person chose one. */
export function initialLang(stored, browser) {
  if (LANGS.includes(stored)) return stored
  return /^zh\b/i.test(browser ?? '') ? 'zh' : 'en'
}
