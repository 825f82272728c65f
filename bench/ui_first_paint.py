"""The Jobs page's first paint on the demo database: `jobmonitor dev --demo` over a database
seeded with `jobmonitor seed --jobs N`, loaded in Debian's headless Chromium with its cache off,
beside GraphiQL's page from the same server as the baseline. For each load: first contentful
paint, and the moment the page shows its content (the list's first row, a job's steps,
GraphiQL's editor), from navigation start, in the page's own clock.

    .venv/bin/python -m bench.ui_first_paint              # 2 000 jobs, 10 rounds
    .venv/bin/python -m bench.ui_first_paint --runs 20
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from server.net import free_port
from tests.support.browser import Browser

from .common import report, say, stop_process, wait_ready

JOBMONITOR = str(Path(sys.executable).with_name("jobmonitor"))
CONTENT = "tr[data-job], li[data-step], .graphiql-query-editor .CodeMirror"
WATCH_CONTENT = f"""
window.__content = null;
new MutationObserver((_, observer) => {{
  if (document.querySelector({CONTENT!r})) {{
    window.__content = performance.now();
    observer.disconnect();
  }}
}}).observe(document, {{ childList: true, subtree: true }});
"""
READ = """
const paint = performance.getEntriesByName('first-contentful-paint')[0];
return window.__content === null || !paint ? null : [paint.startTime, window.__content];
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000, help="jobs seeded before `dev` starts")
    parser.add_argument("--runs", type=int, default=10, help="loads of each page")
    arguments = parser.parse_args()
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBMONITOR_")}
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [JOBMONITOR, "seed", "--jobs", str(arguments.jobs)], cwd=folder, env=env, check=True
        )
        port = free_port()
        ports = ["--temporal-port", str(free_port()), "--temporal-ui-port", str(free_port())]
        dev = subprocess.Popen(
            [JOBMONITOR, "dev", "--demo", "--port", str(port), *ports],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, dev, 120)
            measure(base, arguments.runs, arguments.jobs)
        finally:
            stop_process(dev)


def measure(base: str, runs: int, jobs: int) -> None:
    pages = {
        "GraphiQL /graphql": f"{base}/graphql",
        "Jobs list /": f"{base}/",
        "Job detail /jobs/N": f"{base}/jobs/{jobs // 2}",
    }
    browser = Browser()
    try:
        browser.driver.execute_cdp_cmd("Network.enable", {})
        browser.driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        browser.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_CONTENT}
        )
        paints: dict[str, list[float]] = {name: [] for name in pages}
        contents: dict[str, list[float]] = {name: [] for name in pages}
        names = list(pages)
        for round_ in range(runs):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                browser.driver.get("about:blank")
                browser.driver.get(pages[name])
                paint, content = browser.found(lambda: browser.script(READ))
                paints[name].append(paint / 1000)
                contents[name].append(content / 1000)
    finally:
        browser.close()
    say(f"{jobs} seeded jobs, `jobmonitor dev --demo`, Chromium headless, cache off")
    report("first contentful paint", paints, baseline="GraphiQL /graphql")
    report("content shown (rows, steps, editor)", contents, baseline="GraphiQL /graphql")


if __name__ == "__main__":
    main()
