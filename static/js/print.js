// A Print button ([data-print], drawn hidden): shown and wired only when JavaScript runs, since without it
// the button could not call print(); the browser's own Print menu works either way (print.css).
"use strict";
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
