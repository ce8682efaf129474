// Show only the fields that belong to the chosen radio option. Each section is marked
// data-reveal-name="<radio group name>" data-reveal-value="<option value>". Without JavaScript every section
// stays visible, so nothing depends on this. (No aria-expanded: ARIA does not allow it on radios.)
function update (name) {
  const chosen = document.querySelector(`input[type="radio"][name="${CSS.escape(name)}"]:checked`)
  for (const section of document.querySelectorAll(`[data-reveal-name="${CSS.escape(name)}"]`)) {
    section.hidden = !chosen || section.dataset.revealValue !== chosen.value
  }
}

const names = new Set([...document.querySelectorAll('[data-reveal-name]')].map(section => section.dataset.revealName))
for (const name of names) {
  for (const radio of document.querySelectorAll(`input[type="radio"][name="${CSS.escape(name)}"]`)) {
    radio.addEventListener('change', () => update(name))
  }
  update(name)
}
