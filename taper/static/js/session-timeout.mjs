// The NHS.UK session timeout pattern. Before the idle limit (data-idle-seconds, from TAPER_SESSION_IDLE_MINUTES),
// by data-warn-seconds, a dialog offers to stay signed in (a POST to data-keep-alive-url, which starts the idle
// time again) or to sign out. At the limit it says the person has been signed out; a form saved after that is
// kept through signing in again. Without JavaScript there is no warning and nothing else changes.
const dialog = document.querySelector('[data-session-timeout]')

function words (seconds) {
  if (seconds >= 60) {
    const minutes = Math.ceil(seconds / 60)
    return `${minutes} minute${minutes === 1 ? '' : 's'}`
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`
}

if (dialog && typeof dialog.showModal === 'function') {
  const idleMs = Number(dialog.dataset.idleSeconds) * 1000
  const warnMs = Number(dialog.dataset.warnSeconds) * 1000
  const countdown = dialog.querySelector('[data-session-countdown]')
  const warning = dialog.querySelector('[data-session-warning]')
  const ended = dialog.querySelector('[data-session-ended]')
  const csrfToken = document.querySelector('#taper-sign-out input[name="csrf_token"]')?.value ?? ''
  let endsAt = 0
  let timers = []

  function clear () {
    timers.forEach(timer => { clearTimeout(timer); clearInterval(timer) })
    timers = []
  }

  function tick () {
    countdown.textContent = words(Math.max(0, Math.round((endsAt - Date.now()) / 1000)))
  }

  function warn () {
    tick()
    timers.push(setInterval(tick, 1000))
    if (!dialog.open) dialog.showModal()
  }

  function signedOut () {
    clear()
    warning.hidden = true
    ended.hidden = false
    if (!dialog.open) dialog.showModal()
  }

  function start () {
    clear()
    endsAt = Date.now() + idleMs
    timers.push(setTimeout(warn, Math.max(0, idleMs - warnMs)), setTimeout(signedOut, idleMs))
  }

  async function stay () {
    try {
      const answer = await fetch(dialog.dataset.keepAliveUrl, {
        method: 'POST', credentials: 'same-origin', headers: { 'X-CSRFToken': csrfToken }
      })
      if (!answer.ok) return signedOut()
    } catch {
      return signedOut()
    }
    dialog.close()
    start()
  }

  dialog.querySelector('[data-session-stay]').addEventListener('click', stay)
  dialog.querySelector('[data-session-close]').addEventListener('click', () => dialog.close())
  // Escape is "stay signed in" while the warning shows (as in the NHS.UK and GOV.UK patterns).
  dialog.addEventListener('cancel', event => {
    event.preventDefault()
    if (ended.hidden) stay()
    else dialog.close()
  })
  start()
}
