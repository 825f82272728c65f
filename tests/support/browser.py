"""A real Chromium (Debian's, headless), driven by Selenium through chromium-driver, with no way
to the internet: any host name but 127.0.0.1 fails to resolve. Skipped with the reason where
Chromium is not installed, except under CI=true (.ci/run installs it)."""

import json
import shutil
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.wait import WebDriverWait

from tests.support.environment import missing

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
WAIT_SECONDS = 30
T = TypeVar("T")


class Browser:
    """A headless Chromium that records every request it makes (the DevTools log)."""

    def __init__(self) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM or ""
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--no-default-browser-check",
            "--window-size=1280,900",
            # No internet: any other host name fails to resolve.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER or ""))

    def open(self, url: str, ready: Callable[[], bool]) -> None:
        """Opens `url` and waits until `ready`; `requested_urls` tells what was asked for from
        then on."""
        self.driver.get("about:blank")
        self.driver.get_log("performance")
        self.driver.get(url)
        self.until(ready)

    def requested_urls(self) -> list[str]:
        """Every URL the page asked for: documents, scripts, styles, fetches, websockets."""
        urls = []
        for method, params in self._devtools_events():
            if method == "Network.requestWillBeSent":
                urls.append(params["request"]["url"])
            elif method == "Network.webSocketCreated":
                urls.append(params["url"])
        return urls

    def sent_websocket_messages(self) -> list[str]:
        """What the page sent over its websockets since the last look at the DevTools log."""
        return [
            params["response"]["payloadData"]
            for method, params in self._devtools_events()
            if method == "Network.webSocketFrameSent"
        ]

    def offline(self, offline: bool) -> None:
        """Cuts the page off the network (its open websockets close) or lets it back."""
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )

    def _devtools_events(self) -> list[tuple[str, dict[str, Any]]]:
        """The DevTools events logged since the last look (looking empties the log)."""
        events = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            events.append((message["method"], message["params"]))
        return events

    def script(self, source: str, *arguments: object) -> object:
        """Runs `source` in the page (as a function body) and answers what it returns."""
        return self.driver.execute_script(source, *arguments)

    def until(self, condition: Callable[[], bool]) -> None:
        WebDriverWait(self.driver, WAIT_SECONDS).until(lambda _driver: condition())

    def found(self, probe: Callable[[], T | None]) -> T:
        """What `probe` answers once it answers something (not None), within the deadline."""
        answers: list[T] = []

        def answered() -> bool:
            answer = probe()
            if answer is not None:
                answers.append(answer)
            return bool(answers)

        self.until(answered)
        return answers[-1]

    def close(self) -> None:
        self.driver.quit()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One browser for a module's tests."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        missing("Chromium is not installed (apt-get install chromium chromium-driver)")
    opened = Browser()
    try:
        yield opened
    finally:
        opened.close()
