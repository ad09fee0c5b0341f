// Small progressive enhancements. Every page works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // htmx fires afterSwap on the new content (the old target may be gone after an outerHTML swap).
  // Move focus to the errors, else the heading, so that screen readers announce what changed.
  const target = event.target.querySelector("#form-errors, h1, h2");
  if (target) {
    target.setAttribute("tabindex", "-1");
    target.focus();
  }
});
