"""The Jobs page (built from ui/, served at /) in a real browser against a real `jobmonitor dev`
(Temporal, worker, agent) with seeded history: the list with live counts, a dispatched job
appearing and being cancelled from its row, the tabs, the search and the URL, infinite scroll,
a job's detail with its steps, a live log line and its timeline; no serious accessibility
violation (axe-core) on either page; and, with auth on, a wrong token refused in words.

One `dev` and one browser serve the whole module."""

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from server.auth import Role
from server.runtime import Runtime
from tests.support.auth import token_for
from tests.support.browser import Browser
from tests.support.dev import Dev, running_dev
from tests.support.environment import missing
from tests.support.jobs import dispatch_job, given_workflows
from tests.support.mutations import dispatch
from tests.support.servers import serve

SEEDED_JOBS = 120
REPORT = """
slug: report
steps:
  - name: write
    run: printf 'all good' > "$JOB_ARTIFACTS/report.txt"
"""
AXE = Path(__file__).resolve().parents[1] / "ui" / "node_modules" / "axe-core" / "axe.min.js"
COUNTS = "query($filter: JobFilter) { jobCounts(filter: $filter) { all running pending failed } }"
NUMBERS = """query($first: Int!, $filter: JobFilter) {
  jobs(first: $first, filter: $filter) { edges { node { number } } }
}"""
EVENTS = "query($number: Int!) { job(number: $number) { events { sequence } } }"
SERIOUS = ("serious", "critical")
KEEP_SOCKETS = """
const Native = window.WebSocket;
window.keptSockets = [];
window.WebSocket = class extends Native {
  constructor(...args) { super(...args); window.keptSockets.push(this); }
};
"""


class JobsPage:
    """The page in the browser, read through the DOM."""

    def __init__(self, browser: Browser, base: str) -> None:
        self.browser = browser
        self.base = base

    def open(self, path: str, ready: str) -> None:
        """Opens `path`, once `ready` (a CSS selector) is on the page."""
        self.browser.open(self.base + path, lambda: self.present(ready))

    def present(self, selector: str) -> bool:
        return bool(self.browser.driver.find_elements(By.CSS_SELECTOR, selector))

    def rows(self) -> list[tuple[int, str]]:
        """The list's rows: job number and status."""
        found: list[list[Any]] = self.js(
            "return [...document.querySelectorAll('tr[data-job]')]"
            ".map(row => [Number(row.dataset.job), row.dataset.status])"
        )
        return [(number, status) for number, status in found]

    def tab_counts(self) -> dict[str, int]:
        found: dict[str, int] = self.js(
            "return Object.fromEntries([...document.querySelectorAll('.count[data-tab]')]"
            ".map(count => [count.dataset.tab, Number(count.textContent)]))"
        )
        return found

    def text(self, selector: str) -> str:
        found: str = self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : ''",
            selector,
        )
        return found

    def texts(self, selector: str) -> list[str]:
        found: list[str] = self.js(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)",
            selector,
        )
        return found

    def click(self, selector: str) -> None:
        self.browser.driver.find_element(By.CSS_SELECTOR, selector).click()

    def phases(self) -> list[str]:
        return [phase.strip() for phase in self.texts("tr[data-phase] td:first-child")]

    def sign_in(self, token: str) -> None:
        """Types `token` into the token form and sends it."""
        field = self.browser.driver.find_element(By.CSS_SELECTOR, "input#token")
        field.clear()
        field.send_keys(token, Keys.ENTER)

    def keep_sockets(self) -> None:
        """From the next page on, the page's websockets are kept in `window.keptSockets`."""
        self.browser.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_SOCKETS}
        )

    def socket(self) -> str:
        """What the header says of the socket: connecting, up or down."""
        found: str = self.js("return document.querySelector('[data-socket]').dataset.socket")
        return found

    def path(self) -> str:
        found: str = self.js("return location.pathname + location.search")
        return found

    def until(self, condition: Any) -> None:
        self.browser.until(condition)

    def serious_violations(self) -> list[str]:
        """The rules axe-core finds broken with a serious or critical impact, with where."""
        if not AXE.exists():
            missing("axe-core is not installed (npm ci in ui/)")
        self.js(AXE.read_text())
        found: list[dict[str, Any]] = self.browser.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document).then(result => done(result.violations))"
        )
        return [
            f"{rule['id']}: {[node['target'] for node in rule['nodes']]}"
            for rule in found
            if rule["impact"] in SERIOUS
        ]

    def js(self, source: str, *arguments: object) -> Any:
        return self.browser.script(source, *arguments)


@pytest.fixture(scope="module")
async def dev(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Dev]:
    """`dev` with the seeded history, and a workflow whose step writes a file."""
    folder = tmp_path_factory.mktemp("ui")
    report = folder / "report.yaml"
    report.write_text(REPORT)
    async with running_dev(folder, seeded_jobs=SEEDED_JOBS, workflows=[report]) as running:
        yield running


@pytest.fixture
def page(browser: Browser, dev: Dev) -> JobsPage:
    return JobsPage(browser, dev.url)


async def counts(dev: Dev, **filter: Any) -> dict[str, int]:
    found: dict[str, int] = (await dev.gql.execute(COUNTS, filter=filter))["jobCounts"]
    return found


async def test_the_list_counts_follows_a_dispatched_job_and_cancels_it_from_its_row(
    page: JobsPage, dev: Dev
) -> None:
    # given the list, with the seeded history
    page.open("/", "tr[data-job]")
    shown = page.tab_counts()
    api = await counts(dev)
    assert shown["all"] == api["all"] >= SEEDED_JOBS
    assert shown["running"] == api["running"] + api["pending"]
    assert shown["failed"] == api["failed"]
    assert page.text("[data-testid=total]") == f"{api['all']} jobs"
    assert page.browser.driver.title == "Jobs - jobmonitor"
    assert page.serious_violations() == []

    # when a job is dispatched through the API
    number = (await dispatch(dev.gql, workflow="slow-steps"))["job"]["number"]

    # then it appears at the top, running, and the counts move
    page.until(lambda: page.rows()[0] == (number, "RUNNING"))
    page.until(lambda: page.tab_counts()["running"] == shown["running"] + 1)
    assert page.tab_counts()["all"] == shown["all"] + 1

    # and when it is cancelled from its row, the row and the counts say so
    page.click(f"tr[data-job='{number}'] .row-actions button")
    page.until(lambda: (number, "CANCELLED") in page.rows())
    page.until(lambda: page.tab_counts()["running"] == shown["running"])
    assert (await counts(dev))["running"] == api["running"]
    own = (dev.url, dev.url.replace("http", "ws"), "data:")
    assert [url for url in page.browser.requested_urls() if not url.startswith(own)] == []


async def test_the_failed_tab_and_a_search_filter_the_list_and_the_url_and_scrolling_adds_pages(
    page: JobsPage, dev: Dev
) -> None:
    # given the Failed tab, opened from the list
    page.open("/", "tr[data-job]")
    page.click("a.tab[href='/?status=failed']")
    page.until(lambda: page.path() == "/?status=failed")
    failed = (await counts(dev))["failed"]
    page.until(lambda: len(page.rows()) == min(failed, 50))
    assert {status for _number, status in page.rows()} == {"FAILED"}

    # when a ticket is searched
    box = page.browser.driver.find_element(By.CSS_SELECTOR, "input[type=search]")
    box.send_keys("scrum-1")
    page.until(lambda: page.path() == "/?status=failed&search=scrum-1")
    wanted = {"status": ["FAILED"], "search": "scrum-1"}
    edges = (await dev.gql.execute(NUMBERS, first=50, filter=wanted))["jobs"]["edges"]
    expected = [edge["node"]["number"] for edge in edges]
    page.until(lambda: [number for number, _status in page.rows()] == expected)
    assert all("SCRUM-1" in ticket for ticket in page.texts("tr[data-job] td:nth-child(3)"))
    box.send_keys(Keys.CONTROL, "a")  # leave the box as found for the next test
    box.send_keys(Keys.DELETE)

    # and when All is scrolled to its end, page 2 comes, with no job twice
    page.open("/", "tr[data-job]")
    page.until(lambda: len(page.rows()) == 50)
    page.js("document.querySelector('.more').scrollIntoView()")
    page.until(lambda: len(page.rows()) == 100)
    numbers = [number for number, _status in page.rows()]
    edges = (await dev.gql.execute(NUMBERS, first=100))["jobs"]["edges"]
    assert len(set(numbers)) == 100
    assert numbers == [edge["node"]["number"] for edge in edges]


async def test_the_detail_shows_steps_a_live_log_line_the_timeline_phases_and_artifacts(
    page: JobsPage, dev: Dev
) -> None:
    # given a job that writes a file, and a running job's detail, opened from the Running tab
    report = (await dispatch(dev.gql, workflow="report"))["job"]["number"]
    number = (await dispatch(dev.gql, workflow="slow-steps"))["job"]["number"]
    page.open(f"/jobs/{number}?from=status%3Drunning", "li[data-step]")

    # when its first step's log is opened
    page.click("li[data-step='0'] button[aria-expanded]")

    # then the lines come as the step writes them, and the timeline shows its phases
    page.until(lambda: "tick 3" in page.text("#step-0-log"))
    assert page.texts("li[data-step] strong") == ["step-1", "step-2", "step-3"]
    page.until(lambda: {"Init", "Agent Setup", "Execution"} <= set(page.phases()))
    assert page.text("h1") == "slow-steps — queued"
    assert page.browser.driver.title == f"Job #{number} - jobmonitor"
    assert page.js("return document.querySelector('a.back').getAttribute('href')") == (
        "/?status=running"
    )
    assert page.texts(".events li")
    assert page.serious_violations() == []

    # and the other job's step lists the file it wrote
    page.open(f"/jobs/{report}", "li[data-step]")
    page.until(lambda: page.texts("li[data-step='0'] .artifacts button") == ["report.txt"])


async def test_a_dropped_socket_shows_and_the_list_resumes_after_the_last_event_it_saw(
    page: JobsPage, dev: Dev
) -> None:
    # given the list, which has seen a job's events (its sockets within the test's reach)
    page.keep_sockets()
    page.open("/", "tr[data-job]")
    seen = (await dispatch(dev.gql, workflow="hello"))["job"]["number"]
    page.until(lambda: page.rows()[0][0] == seen)

    # when the page loses the network while another job is dispatched, then gets it back
    page.browser.offline(True)
    page.js("window.keptSockets.forEach(socket => socket.close())")
    page.until(lambda: page.socket() == "down")
    paused = page.text("[data-socket]")
    missed = (await dispatch(dev.gql, workflow="hello"))["job"]["number"]
    page.browser.sent_websocket_messages()  # what was sent before the drop
    page.browser.offline(False)

    # then the header said so, and the list resumed the status stream after the last event it
    # had seen, which replayed the missed job
    page.until(lambda: page.socket() == "up")
    page.until(lambda: page.rows()[0][0] == missed)
    resumed = [
        json.loads(message)["payload"]["variables"]["after"]
        for message in page.browser.sent_websocket_messages()
        if "JobStatusChanged" in message
    ]
    sequences = {
        number: [
            event["sequence"]
            for event in (await dev.gql.execute(EVENTS, number=number))["job"]["events"]
        ]
        for number in (seen, missed)
    }
    assert paused == "Live updates paused: reconnecting…"
    assert len(resumed) == 1
    assert sequences[seen][0] <= resumed[0] < sequences[missed][0]


async def test_with_auth_on_a_wrong_token_is_refused_in_words_and_a_valid_one_opens_the_list(
    browser: Browser, authed_app: FastAPI, runtime: Runtime, tenant: str
) -> None:
    await given_workflows(runtime, tenant)
    token = await token_for(runtime, Role.VIEWER)
    async with serve(authed_app) as server:
        # given the page of a server that needs tokens, which asks for one
        page = JobsPage(browser, server.http_url)
        await asyncio.to_thread(page.open, "/", "input#token")

        # when a wrong token is given, then a valid one
        await asyncio.to_thread(page.sign_in, "not-a-token")
        await asyncio.to_thread(page.until, lambda: page.present("form [role=alert]"))
        refusal = await asyncio.to_thread(page.text, "form [role=alert]")
        await asyncio.to_thread(page.sign_in, token)

        # then the first is refused with the server's reason, and the second opens the list,
        # empty, then live over the socket the token opened
        assert refusal == (
            "The server refused the token: a valid API token is required: "
            "send `Authorization: Bearer <token>`"
        )
        await asyncio.to_thread(page.until, lambda: page.text(".empty") == "No jobs yet")
        job = await dispatch_job(runtime, tenant)
        await asyncio.to_thread(page.until, lambda: page.rows() == [(job.number, "PENDING")])
        # and the token stays for the session: the Completed tab opens without asking again
        await asyncio.to_thread(page.open, "/?status=completed", ".empty")
        assert await asyncio.to_thread(page.text, ".empty") == "No completed jobs"
