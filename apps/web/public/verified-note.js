// What a successful verify answer carries beyond { verified: true }: with
// VERIFICATION_TOKEN_KEY set, a signed token for the app's backend
// (docs/integration.md). The page says that one was issued; it never shows or
// logs the token itself.

const TEXT = {
  zh: '已签发验证令牌，供你的应用后端核验。',
  en: 'A verification token was issued for your app\'s backend.',
}

/** `body` is the verify answer; `lang` is 'zh' or 'en'. */
export function renderVerifiedNote(container, body, lang) {
  container.replaceChildren()
  if (typeof body?.token !== 'string') return
  const note = document.createElement('p')
  note.className = 'note'
  note.textContent = TEXT[lang] ?? TEXT.en
  container.append(note)
}
