"""`make lighthouse`: Lighthouse scores of the portal's pages, served as in production.

It reuses `make bench`'s database (run `make bench` once first), starts the portal under gunicorn with TLS
(a self-signed certificate, so Chromium runs with --ignore-certificate-errors), signs in as a demo customer,
and runs Lighthouse 12.2.3 (pinned in bench/lighthouse/package.json) with Debian's Chromium on each page,
as a phone (mobile emulation with Lighthouse's simulated throttling, its default) and as a desktop
(`--preset=desktop`). Reports go to var/bench/lighthouse/.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import (
    PORT,
    PORTAL,
    ROOT,
    WORK,
    log_in,
    make_certificate,
    portal_env,
    say,
    start_gunicorn,
    wait_until_up,
)
from portal.seeding import DEMO_PASSWORD

LIGHTHOUSE = ROOT / "bench" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --ignore-certificate-errors --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = {
    "rates": ("/rates/", False),
    "FAQ": ("/faq/", False),
    "FAQ search": ("/faq/?q=payee", False),
    "login": ("/login/", False),
    "dashboard": ("/", True),
    "transfer form": ("/transfers/new/", True),
    "security": ("/security/", True),
    # The one page with charts: plotly.js (4.8 MB) comes after load, when a chart nears the screen.
    "insights": ("/insights/", True),
    "insights 12 months": ("/insights/?period=12m", True),
    # The insights' pages without charts: no plotly.js.
    "budgets": ("/insights/budgets/", True),
    "projection": ("/insights/projection/?deposit=5000", True),
    "rules": ("/insights/rules/", True),
}


FORM_FACTORS = ("mobile", "desktop")


def audit(name: str, path: str, cookie: str | None, out: Path, form_factor: str) -> dict[str, int]:
    args = [
        str(LIGHTHOUSE),
        f"{PORTAL}{path}",
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if form_factor == "desktop":
        args.append("--preset=desktop")
    if cookie:
        args.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    for _attempt in range(3):
        # On a busy machine headless Chromium now and then paints nothing in time (NO_FCP): try again.
        done = subprocess.run(args, env=env, check=False, capture_output=True)  # noqa: S603
        report = json.loads(out.read_text()) if out.exists() else {}
        if done.returncode == 0 and not report.get("runtimeError"):
            break
    else:
        raise SystemExit(f"{name}: Lighthouse failed: {report.get('runtimeError') or done.stderr[-500:]}")
    landed = report.get("finalDisplayedUrl", "")
    if not landed.endswith(path):
        raise SystemExit(f"{name}: Lighthouse landed on {landed}, not {path} (signed out?)")
    return {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--email", default="alice@example.com", help="the demo customer to sign in as")
    parser.add_argument("--only", default="", help="comma-separated page names (default: every page)")
    parser.add_argument("--form-factors", default=",".join(FORM_FACTORS), help="mobile, desktop or both")
    options = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is missing: `make lighthouse` installs it (npm ci in bench/lighthouse)")
    out_dir = WORK / "lighthouse"
    out_dir.mkdir(parents=True, exist_ok=True)
    cert, key = make_certificate()
    server = start_gunicorn("portal.wsgi:application", f"127.0.0.1:{PORT}", portal_env(), cert, key, 1, 4)
    rows = []
    try:
        wait_until_up(f"{PORTAL}/health/")
        session = log_in(options.email, DEMO_PASSWORD)
        wanted = {n.strip() for n in options.only.split(",") if n.strip()} or set(PAGES)
        for name, (path, signed_in) in PAGES.items():
            if name not in wanted:
                continue
            for form_factor in options.form_factors.split(","):
                say(f"lighthouse {name} ({path}, {form_factor})")
                out = out_dir / f"{name.replace(' ', '-')}-{form_factor}.json"
                cookie = session.cookie if signed_in else None
                rows.append((f"{name} ({form_factor})", audit(name, path, cookie, out, form_factor)))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    lines = ["| page | " + " | ".join(CATEGORIES) + " |", "| --- |" + " ---: |" * len(CATEGORIES)]
    lines += [f"| {name} | " + " | ".join(str(s[c]) for c in CATEGORIES) + " |" for name, s in rows]
    report = "\n".join(lines)
    print("\n" + report)
    (out_dir / "scores.md").write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
