// Live preview: when a setting changes, post the form for a preview and swap in the new preview (and any error
// summary) without reloading the page, so nothing typed is lost. Without JavaScript the Preview button does
// the same with a page load.
const form = document.querySelector('form[data-live-preview]')

async function refresh () {
  const body = new FormData(form)
  body.set('preview', '1')
  const response = await fetch(form.getAttribute('action') || window.location.href, {
    method: 'POST', body, credentials: 'same-origin'
  })
  if (!response.ok) return
  const next = new DOMParser().parseFromString(await response.text(), 'text/html')
  for (const id of ['preview-area', 'errors-area']) {
    const fresh = next.getElementById(id)
    const current = document.getElementById(id)
    if (fresh && current) current.replaceWith(fresh)
  }
}

if (form) {
  let timer
  form.addEventListener('change', () => {
    clearTimeout(timer)
    timer = setTimeout(refresh, 300)
  })
}
