// Small progressive enhancements. Every page works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // After HTMX replaces part of a page, move focus to its heading so screen readers announce the change.
  const heading = event.detail.target.querySelector("h1, h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
});
