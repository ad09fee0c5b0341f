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

document.addEventListener("htmx:beforeSwap", (event) => {
  // htmx does not swap error answers. A 429 (rate limit) is a page for the customer, not an error: the
  // server retargets it to <main> (HX-Retarget), so let htmx show it.
  if (event.detail.xhr.status === 429) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
