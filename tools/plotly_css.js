// `make vendor-plotly`: print the global CSS rules that plotly.js would inject as an inline <style> (the CSP
// refuses it), read out of the bundle given as the argument. static/js/insights.js links the result as
// <link id="plotly.js-style-global" class="no-inline-styles">, which tells plotly.js to inject nothing.
const fs = require("fs");
const source = fs.readFileSync(process.argv[2], "utf8");
// The map library's own inline <style>, skipped when an element with its id exists: insights.js makes one.
const mapStyle = source.match(/getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement\("style"\)/);
const loader = fs.readFileSync(require("path").join(__dirname, "..", "static", "js", "insights.js"), "utf8");
if (mapStyle && !loader.includes(mapStyle[1])) {
  throw new Error(`static/js/insights.js must create an element with id ${mapStyle[1]} (MAP_STYLE_ID)`);
}
const start = source.indexOf('{"X,X div"');
if (start < 0) throw new Error("plotly.js's style rules were not found: has the bundle changed?");
let depth = 0;
let quote = null;
let end = start;
for (; end < source.length; end++) {
  const c = source[end];
  if (quote) {
    if (c === "\\") end++;
    else if (c === quote) quote = null;
  } else if (c === '"' || c === "'") quote = c;
  else if (c === "{") depth++;
  else if (c === "}" && --depth === 0) break;
}
// An object literal of string keys and string values, from the vendored file itself.
const rules = new Function(`return (${source.slice(start, end + 1)});`)();
const version = source.match(/plotly\.js v[0-9.]+/)[0];
console.log(`/* The global rules of ${version} (tools/plotly_css.js; \`make vendor-plotly\` writes this file). */`);
for (const [key, value] of Object.entries(rules)) {
  // As plotly.js's src/css/plotcss.js names them.
  const selector = key
    .replace(/^,/, " ,")
    .replace(/X/g, ".js-plotly-plot .plotly")
    .replace(/Y/g, ".plotly-notifier");
  console.log(`${selector}{${value}}`);
}
