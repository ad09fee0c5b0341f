// Small progressive enhancements. Every page works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // htmx fires afterSwap on the new content (the old target may be gone after an outerHTML swap).
  // Move focus to the errors, else the heading, so that screen readers announce what changed. One selector
  // at a time: a list ("#form-errors, h1, h2") would give the first in document order, the heading above
  // the errors.
  const root = event.target;
  // The history after Newer/Older/Newest: focus on the heading that names the rows now shown, and the top of
  // them in view (the link that was pressed is gone, and the window was scrolled to the bottom).
  const pressed = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (root.id === "history-results" && pressed && pressed.closest && pressed.closest(".pager")) {
    const heading = root.querySelector("#history-rows-heading");
    if (heading) {
      heading.focus({ preventScroll: true });
      root.querySelector(".history-card").scrollIntoView({ block: "start" });
    }
    return;
  }
  // A region that places focus itself (the history's results keep it on the field the customer was in;
  // the detail drawer below moves it to its heading).
  if (root.closest("[data-own-focus]")) return;
  const target = ["#form-errors", "h1", "h2"].map((s) => root.querySelector(s)).find(Boolean);
  if (target) {
    target.setAttribute("tabindex", "-1");
    target.focus();
  }
  // The step's tab title rides on the fragment (data-title) or a <title> in it: the tab then names the step.
  const titled = root.matches("[data-title]") ? root : root.querySelector("[data-title]");
  const title = titled ? titled.dataset.title : root.querySelector("title")?.textContent;
  if (title) document.title = title.trim().endsWith("SecureBank") ? title.trim() : `${title.trim()} · SecureBank`;
});

document.addEventListener("htmx:beforeSwap", (event) => {
  // htmx does not swap error answers. A 429 (rate limit) or a limiter's 503 is a page for the customer, not
  // an error: the server retargets it to <main> (HX-Retarget), so let htmx show it.
  const status = event.detail.xhr.status;
  if (status === 429 || (status === 503 && event.detail.xhr.getResponseHeader("HX-Retarget"))) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
// The idle warning. A signed-in page's <body> says how many seconds its session has left
// (data-session-remaining) and how long before the end to warn (data-session-warning). A little before the
// end a modal <dialog> (focus moves into it, screen readers announce its title and text) offers
// "Stay signed in", which POSTs to /session/ping/ and restarts the clock. At the end the page reloads and
// the server sends it to the login page, which returns here after sign-in. Without JavaScript the server's
// redirect alone does the job. An htmx request is activity: its answer carries the new time left.
(() => {
  const body = document.body;
  const dialog = document.getElementById("session-warning");
  if (!dialog || !body.dataset.sessionRemaining || typeof dialog.showModal !== "function") return;
  const form = dialog.querySelector("form[data-session-ping]");
  const countdown = dialog.querySelector("[data-session-countdown]");
  const announce = dialog.querySelector("[data-session-announce]");
  const stay = dialog.querySelector("[data-session-stay]");
  const close = dialog.querySelector("[data-session-close]");
  const text = document.getElementById("session-warning-text");
  const warning = Number(body.dataset.sessionWarning) || 60;
  let endsByLifetime = body.dataset.sessionEndsByLifetime === "true";
  let warnTimer;
  let endTimer;
  let tickTimer;
  let endsAt = 0;
  let announced = 0;

  const inWords = (seconds) => {
    if (seconds >= 90) return `${Math.round(seconds / 60)} minutes`;
    if (seconds >= 45) return "1 minute";
    const s = Math.max(1, Math.round(seconds));
    return `${s} second${s === 1 ? "" : "s"}`;
  };

  // The countdown: "0:45" each second for the eye; the live region speaks only every 15 seconds (and in
  // the last seconds' first announcement), so that a screen reader is not talked over once a second.
  const clock = (seconds) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  const tick = () => {
    const left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    countdown.textContent = clock(left);
    if (!announced || announced - left >= 15) {
      announced = left || 1;
      announce.textContent = `${inWords(left)} left.`;
    }
  };
  const stopCountdown = () => {
    clearInterval(tickTimer);
    announced = 0;
    announce.textContent = "";
  };
  dialog.addEventListener("close", stopCountdown);

  const warn = (left) => {
    endsAt = Date.now() + left * 1000;
    stopCountdown();
    tick();
    tickTimer = setInterval(tick, 1000);
    text.textContent = endsByLifetime
      ? `You'll be signed out in ${inWords(left)}: for your security a session lasts at most 12 hours. Finish what you're doing and sign in again.`
      : `You'll be signed out in ${inWords(left)} because you haven't done anything for a while.`;
    stay.hidden = endsByLifetime;
    close.hidden = !endsByLifetime;
    if (!dialog.open) dialog.showModal();
    (endsByLifetime ? close : stay).focus();
  };

  const schedule = (remaining) => {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    const left = Math.max(0, remaining);
    warnTimer = setTimeout(() => warn(Math.min(warning, left)), Math.max(0, left - warning) * 1000);
    // A second's grace, so that the server agrees the session is over when the page asks again.
    endTimer = setTimeout(() => window.location.assign(window.location.href), (left + 1) * 1000);
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    stay.disabled = true;
    try {
      const answer = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      });
      if (answer.redirected || !answer.ok) {
        window.location.assign(answer.redirected ? answer.url : window.location.href);
        return;
      }
      const remaining = Number(answer.headers.get("X-Session-Idle-Remaining"));
      dialog.close();
      if (remaining > 0) {
        endsByLifetime = answer.headers.get("X-Session-Ends-By-Lifetime") === "true";
        schedule(remaining);
      }
    } catch {
      window.location.assign(window.location.href);
    } finally {
      stay.disabled = false;
    }
  });
  close.addEventListener("click", () => dialog.close());

  document.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail && event.detail.xhr;
    const remaining = xhr ? Number(xhr.getResponseHeader("X-Session-Idle-Remaining")) : 0;
    if (remaining > 0) {
      endsByLifetime = xhr.getResponseHeader("X-Session-Ends-By-Lifetime") === "true";
      schedule(remaining);
    }
  });

  schedule(Number(body.dataset.sessionRemaining));
})();

// The transfer form: the chosen account's balance, in full, under its select. A select cuts its option's
// text at its width, so the options name the account only; the balances come from the list of accounts
// above the form (which shows them without JavaScript too). Runs again on each htmx swap of the form.
(() => {
  const show = (select) => {
    const card = select.closest("[data-account-balances]");
    let hint = document.getElementById(`${select.id}_balance`);
    if (!hint) {
      hint = document.createElement("p");
      hint.className = "hint selected-balance";
      hint.id = `${select.id}_balance`;
      select.after(hint);
      const described = select.getAttribute("aria-describedby");
      select.setAttribute("aria-describedby", described ? `${described} ${hint.id}` : hint.id);
    }
    const item = select.value && card.querySelector(`[data-account="${CSS.escape(select.value)}"]`);
    const balance = item && item.querySelector("[data-balance]");
    hint.replaceChildren();
    if (balance) {
      const amount = document.createElement("span");
      amount.className = "amount";
      amount.textContent = balance.textContent;
      hint.append("Balance ", amount);
    }
    hint.hidden = !balance;
  };
  const init = (root) => root.querySelectorAll("[data-account-balances] select").forEach(show);
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-account-balances] select")) show(event.target);
  });
  document.addEventListener("htmx:load", (event) => init(event.target));
  init(document);
})();

// The history page's detail drawer: a row's link loads the transaction into a modal <dialog> (HTMX), focus
// moves to its heading; Escape, Close or a click outside closes it and focus returns to the row's link.
// Without JavaScript (or without <dialog>) the link opens the detail as a page.
(() => {
  const drawer = document.getElementById("history-drawer");
  const body = document.getElementById("history-drawer-body");
  if (!drawer || !body) return;
  let opener = null;
  if (typeof drawer.showModal !== "function") {
    // No dialog to show it in: follow the link instead.
    document.addEventListener("htmx:beforeRequest", (event) => {
      if (event.detail.target === body) {
        event.preventDefault();
        window.location.assign(event.detail.elt.getAttribute("href"));
      }
    });
    return;
  }
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.target === body) opener = event.detail.elt;
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target !== body) return;
    if (!drawer.open) drawer.showModal();
    const heading = body.querySelector("h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  });
  drawer.addEventListener("click", (event) => {
    if (event.target === drawer || event.target.closest("[data-drawer-close]")) drawer.close();
  });
  // A category changed in the drawer: the row it was opened from says the new one too (else, closed, the
  // list would still show the old category until a reload).
  document.addEventListener("htmx:afterSwap", (event) => {
    const block = event.target;
    if (block.id !== "entry-category" || !body.contains(block) || !block.querySelector(".notice-success")) return;
    const row = opener && opener.closest("tr");
    const name = block.dataset.categoryName;
    if (!row || !name) return;
    const cell = row.querySelector("[data-row-category-cell]");
    const inline = row.querySelector("[data-row-category]");
    if (cell) cell.textContent = name;
    if (inline) inline.textContent = ` · ${name}`;
  });
  drawer.addEventListener("close", () => {
    body.replaceChildren();
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });
})();

// The history search's "?" help (a <details>): Escape closes it and puts focus back on its "?".
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const help = event.target.closest && event.target.closest("details.search-help[open]");
  if (!help) return;
  help.removeAttribute("open");
  help.querySelector("summary").focus();
});

// The FAQ (templates/public/faq.html). A deep link /faq/#<slug> names an anchor inside a question's
// <details>: open it, bring the question into view and put focus on its summary, on load and whenever the
// fragment changes (Chromium opens it by itself too; others may not). An emptied search asks for the plain
// /faq/ (the cached page's part), not /faq/?q=; an emptied "Rates as of" likewise /rates/.
(() => {
  const openTarget = () => {
    if (location.hash.length < 2) return;
    let target;
    try {
      target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    } catch {
      return;
    }
    const details = target && target.closest("details.faq-item");
    if (!details) return;
    details.open = true;
    const summary = details.querySelector("summary");
    if (summary) summary.focus({ preventScroll: true });
    details.scrollIntoView({ block: "start" });
  };
  if (document.querySelector("details.faq-item")) {
    openTarget();
    // The browser's own scroll to the fragment runs after this script and moves focus to the target (an
    // anchor that cannot take it: focus falls back to the page). Put it on the question after that.
    window.addEventListener("load", () => setTimeout(openTarget, 0));
  }
  window.addEventListener("hashchange", openTarget);
  // The same for the rate sheet's "Rates as of" with an emptied field: /rates/ (today), not /rates/?as_of=.
  const emptied = { "form.faq-search": "q", "form.rates-as-of": "as_of" };
  document.addEventListener("htmx:configRequest", (event) => {
    const form = event.detail.elt;
    if (!form.matches) return;
    const name = Object.entries(emptied).find(([selector]) => form.matches(selector))?.[1];
    if (!name) return;
    const params = event.detail.parameters;
    const value = params instanceof FormData ? params.get(name) : params[name];
    if (typeof value === "string" && value.trim() === "") {
      if (params instanceof FormData) params.delete(name);
      else delete params[name];
    }
  });
})();

// The customer's category of a transaction (history detail) and the rules' progress: after their own swap,
// focus goes to what changed, never to the page: the field with its error, else the saved message; the
// progress after "Apply my rules" is pressed. A poll leaves focus where it is, unless it was inside the
// progress (its status line, after the press): the swap removes that element, and focus would fall to the
// page's top; it goes to the new status line instead.
let focusInProgress = false;
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  focusInProgress = Boolean(target && target.id === "rules-progress" && target.contains(document.activeElement));
});
document.addEventListener("htmx:afterSwap", (event) => {
  const root = event.target;
  const pressed = event.detail.requestConfig && event.detail.requestConfig.elt;
  let target = null;
  if (root.id === "entry-category") {
    target = root.querySelector("[aria-invalid='true']") || root.querySelector(".notice");
  } else if (root.id === "rules-progress" && ((pressed && pressed.tagName === "FORM") || focusInProgress)) {
    target = root.querySelector(".rules-progress-status");
  }
  focusInProgress = false;
  if (target) {
    if (!target.matches("select, input, button, a")) target.setAttribute("tabindex", "-1");
    target.focus();
  }
});

// Statements (templates/statements/_statement.html): a row swaps itself while it is being made (a poll every
// two seconds) and after "Try again". A poll leaves focus where it is, unless it was inside the row (its
// Refresh link): the swap removes that element, and focus would fall to the page's top; it goes to the new
// row's status line instead, as it does after "Try again" (the button pressed is gone).
let focusInStatement = false;
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  focusInStatement = Boolean(target && target.matches && target.matches("[data-statement]") && target.contains(document.activeElement));
});
document.addEventListener("htmx:afterSwap", (event) => {
  const row = event.target;
  const pressed = event.detail.requestConfig && event.detail.requestConfig.elt;
  const wasPressed = pressed && pressed.tagName === "FORM" && !pressed.isConnected;
  if (row.matches && row.matches("[data-statement]") && (focusInStatement || wasPressed)) {
    const status = row.querySelector(".statement-status");
    if (status) {
      status.setAttribute("tabindex", "-1");
      status.focus();
    }
  }
  focusInStatement = false;
});
