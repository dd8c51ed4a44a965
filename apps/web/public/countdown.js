// The resend button's countdown, one per flow (the API's cooldown is per number
// and purpose). It runs until its deadline whatever else happens (a verify, a
// change of flow): the API's cooldown does not end early, so neither does the
// button, and it always comes back enabled.

/** Controls `button`; `label(secondsLeft)` gives the text while waiting, `idle()` the text after. */
export function createCountdown(button, { label, idle }) {
  const until = new Map()
  let shown
  let timer

  function render() {
    const left = Math.ceil(((until.get(shown) ?? 0) - Date.now()) / 1000)
    if (left <= 0) {
      clearInterval(timer)
      timer = undefined
      button.disabled = false
      button.textContent = idle()
      return
    }
    button.disabled = true
    button.textContent = label(left)
    timer ??= setInterval(render, 250)
  }

  return {
    /** Waits `seconds` from now for flow `key` (a longer wait already running is kept). */
    start(key, seconds) {
      until.set(key, Math.max(until.get(key) ?? 0, Date.now() + Math.max(1, Math.ceil(seconds)) * 1000))
      render()
    },
    /** Shows flow `key`'s countdown (or the idle button). */
    show(key) {
      shown = key
      render()
    },
    /** Redraws, e.g. in another language. */
    render,
    running: (key) => (until.get(key) ?? 0) > Date.now(),
  }
}
