// The insights page's charts (templates/transactions/insights/insights.html). The page is whole without this
// file: each chart's figures are in its sentence and its table. Here, plotly.js (4.8 MB, vendored from the
// plotly Python package) is fetched only once the page has loaded, the browser is idle and a chart box comes
// near the screen; each box is drawn from its <script type="application/json"> when it does. The CSP allows
// no inline script or style: the figures are data (JSON.parse), and plotly's own rules come as a stylesheet
// that tells it to inject none (static/css/plotly.css).
(() => {
  const root = () => document.getElementById("insights-results");
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const CONFIG = { displayModeBar: false, responsive: true, scrollZoom: false, doubleClick: false, showTips: false };
  const MAP_STYLE_ID = "9f215cf04c5486422605d13261cb87401f4e7763b6296af81e98efbc0130da53";
  let plotly = null; // a promise of window.Plotly, once asked for

  const idle = new Promise((resolve) => {
    const later = () => ("requestIdleCallback" in window ? requestIdleCallback(resolve, { timeout: 3000 }) : setTimeout(resolve, 300));
    if (document.readyState === "complete") later();
    else window.addEventListener("load", later, { once: true });
  });

  function loadPlotly(src, stylesheet) {
    if (!plotly) {
      plotly = idle.then(
        () =>
          new Promise((resolve, reject) => {
            const css = document.createElement("link");
            css.rel = "stylesheet";
            css.id = "plotly.js-style-global";
            css.className = "no-inline-styles";
            css.href = stylesheet;
            document.head.appendChild(css);
            // The bundle's map library injects its stylesheet unless an element with this id exists; no chart
            // here is a map, so a placeholder stands in (tools/plotly_css.js checks the id at each vendoring).
            const maps = document.createElement("meta");
            maps.id = MAP_STYLE_ID;
            document.head.appendChild(maps);
            const script = document.createElement("script");
            script.src = src;
            script.async = true;
            script.onload = () => resolve(window.Plotly);
            script.onerror = () => {
              plotly = null;
              reject(new Error("plotly.js did not load"));
            };
            document.head.appendChild(script);
          }),
      );
    }
    return plotly;
  }

  // A bar that links: the history of that category (one account), or the category's row in the table, whose
  // links name each account (all accounts).
  function follow(link) {
    if (!link) return;
    if (!link.startsWith("#")) {
      window.location.assign(link);
      return;
    }
    const row = document.getElementById(link.slice(1));
    if (!row) return;
    const details = row.closest("details");
    if (details) details.open = true;
    const target = row.querySelector("a") || row;
    target.scrollIntoView({ block: "center", behavior: reduceMotion.matches ? "auto" : "smooth" });
    target.focus({ preventScroll: true });
  }

  function draw(box, Plotly) {
    const source = document.getElementById(box.dataset.figure);
    if (!source || box.dataset.drawn || !box.isConnected) return;
    box.dataset.drawn = "1";
    const figure = JSON.parse(source.textContent);
    if (reduceMotion.matches) figure.layout.transition = { duration: 0 };
    // On a phone, months on a category axis get every other label (the table has each of them).
    const months = figure.data[0] && figure.data[0].x;
    if (figure.layout.xaxis && figure.layout.xaxis.type === "category" && months && months.length > 6 && box.clientWidth < 480) {
      figure.layout.xaxis.dtick = 2;
    }
    Plotly.react(box, figure.data, figure.layout, CONFIG).then(() => {
      box.classList.add("chart-drawn");
      box.on("plotly_click", (event) => {
        const point = event.points && event.points[0];
        follow(point && Array.isArray(point.customdata) ? point.customdata[1] : "");
      });
    });
  }

  const observer =
    "IntersectionObserver" in window
      ? new IntersectionObserver(
          (seen) => {
            for (const entry of seen) {
              if (!entry.isIntersecting) continue;
              observer.unobserve(entry.target);
              const assets = root() && root().dataset;
              if (assets) loadPlotly(assets.plotlySrc, assets.plotlyCss).then((Plotly) => draw(entry.target, Plotly), () => {});
            }
          },
          { rootMargin: "200px 0px" },
        )
      : null;

  function watch(scope) {
    for (const box of scope.querySelectorAll(".chart[data-figure]")) {
      if (observer) observer.observe(box);
      else {
        const assets = root() && root().dataset;
        if (assets) loadPlotly(assets.plotlySrc, assets.plotlyCss).then((Plotly) => draw(box, Plotly), () => {});
      }
    }
  }

  // The period and account selects show their choice at once; "Custom dates" waits for the dates and Show.
  document.addEventListener("change", (event) => {
    const field = event.target;
    if (!field.closest || !field.closest(".insights-form")) return;
    if (field.name === "account" || (field.name === "period" && field.value !== "custom")) {
      field.form.requestSubmit();
    } else if (field.name === "period") {
      document.getElementById("id_date_from")?.focus();
    }
  });

  // Charts swapped out (a new period): let plotly forget them; the new ones are watched as they arrive.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (!window.Plotly || !event.detail.target) return;
    for (const box of event.detail.target.querySelectorAll(".chart-drawn")) window.Plotly.purge(box);
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const status = document.getElementById("insights-status");
    const results = event.detail.target && event.detail.target.id === "insights-results" ? root() : null;
    if (!status || !results) return;
    const text = (el) => el.textContent.replace(/\s+/g, " ").trim();
    const errors = results.querySelector("#form-errors");
    const heading = results.querySelector("#insights-summary-heading");
    status.textContent = errors ? text(errors) : heading ? `Now showing: ${text(heading)}` : "";
  });
  document.addEventListener("htmx:load", (event) => {
    const elt = event.detail.elt;
    if (elt && elt !== document.body && elt.querySelectorAll) watch(elt);
  });
  watch(document);
})();
