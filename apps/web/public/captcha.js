// The captcha widget the API asks for (CAPTCHA_PROVIDER), configured by the page's server
// through /config.js. Turnstile and hCaptcha render in place and hand over a token; Tencent's
// TCaptcha opens on demand and hands over a ticket and a randstr. Every answer is good for one
// send, so the widget is reset after each.

/** Where each provider's script lives; the server's CSP allows exactly these origins. */
export const WIDGET_SCRIPTS = {
  turnstile: 'https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit&onload=smsCaptchaLoaded',
  hcaptcha: 'https://js.hcaptcha.com/1/api.js?render=explicit&onload=smsCaptchaLoaded',
  tencent: 'https://turing.captcha.qcloud.com/TJCaptcha.js',
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    // Turnstile and hCaptcha call the named onload once their API is ready, not at script load.
    window.smsCaptchaLoaded = resolve
    const script = document.createElement('script')
    script.src = src
    script.async = true
    script.onerror = () => reject(new Error('captcha script failed to load'))
    if (!src.includes('onload=')) script.onload = () => resolve()
    document.head.append(script)
  })
}

/** A rendered Turnstile or hCaptcha widget: `answer()` is the last token, or null until solved. */
async function inPlace(api, container, siteKey) {
  let token = null
  const id = api().render(container, {
    sitekey: siteKey,
    callback: (t) => { token = t },
    'expired-callback': () => { token = null },
    'error-callback': () => { token = null },
  })
  return {
    answer: async () => (token ? { captchaToken: token } : null),
    reset: () => { token = null; api().reset(id) },
  }
}

/** Tencent's popup: `answer()` opens it and resolves with ticket and randstr, or null when closed. */
function tencent(appId) {
  return {
    answer: () => new Promise((resolve) => {
      const captcha = new window.TencentCaptcha(String(appId), (res) => {
        resolve(res && res.ret === 0 && res.ticket ? { captchaToken: res.ticket, captchaRandstr: res.randstr } : null)
      })
      captcha.show()
    }),
    reset: () => {},
  }
}

/**
 * Mounts the configured widget in `container`. Resolves to null when the
 * captcha is off, else to `{ answer(), reset() }`; rejects when the widget
 * cannot load (the page then says so: sends would be refused anyway).
 */
export async function mountCaptcha(config, container) {
  if (!config || !config.provider) return null
  container.hidden = false
  container.dataset.provider = config.provider
  container.dataset.sitekey = config.siteKey
  await loadScript(WIDGET_SCRIPTS[config.provider])
  if (config.provider === 'tencent') return tencent(config.siteKey)
  return inPlace(() => window[config.provider], container.querySelector('.widget') ?? container, config.siteKey)
}
