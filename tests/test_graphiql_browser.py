"""GraphiQL in a real browser (Debian's Chromium, headless, driven by Selenium through
chromium-driver), with no way to the internet: the page loads from the server alone, runs a
query, and shows the events of a live subscription.

Skipped with the reason where Chromium is not installed, except under CI=true (.ci/run
installs it), where that is a failure (`tests.support.environment.missing`)."""

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI
from selenium.webdriver.common.by import By

from server.app import create_app
from server.auth import Role
from server.runtime import Runtime
from server.settings import AuthMode
from tests.support.auth import token_for
from tests.support.browser import WAIT_SECONDS, Browser
from tests.support.jobs import cancel_job, dispatch_job, given_workflows
from tests.support.servers import LiveServer, serve
from tests.support.waiting import eventually

QUERY = "{ jobs(first: 5) { edges { node { number status } } } }"
SUBSCRIPTION = "subscription { jobStatusChanged { status job { number } } }"
EDITOR = ".graphiql-query-editor .CodeMirror"
RESPONSE = ".graphiql-response .CodeMirror"
HEADERS = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"


class GraphiQL:
    """The GraphiQL page in the browser: its editors, its run button, its sidebar."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.driver = browser.driver

    def open(self, url: str) -> None:
        self.browser.open(url, lambda: bool(self.driver.find_elements(By.CSS_SELECTOR, EDITOR)))

    def run(self, operation: str) -> None:
        """Types `operation` into the query editor and presses the run button."""
        self.type_into(EDITOR, operation)
        self.driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()

    def type_into(self, selector: str, text: str) -> None:
        self.driver.execute_script(
            "document.querySelector(arguments[0]).CodeMirror.setValue(arguments[1])",
            selector,
            text,
        )

    def response_containing(self, text: str) -> dict[str, Any]:
        """The response pane's JSON, once it contains `text`."""
        self.until(lambda: text in self.editor_text(RESPONSE))
        shown: dict[str, Any] = json.loads(self.editor_text(RESPONSE))
        return shown

    def editor_text(self, selector: str) -> str:
        text: str = self.driver.execute_script(
            "const e = document.querySelector(arguments[0]);"
            "return e ? e.CodeMirror.getValue() : '';",
            selector,
        )
        return text

    def sidebar(self) -> list[str]:
        """The labels of the sidebar's buttons (the plugins among them)."""
        labels: list[str] = self.driver.execute_script(
            "return [...document.querySelectorAll('.graphiql-sidebar button')]"
            ".map(button => button.getAttribute('aria-label'))"
        )
        return labels

    def requested_urls(self) -> list[str]:
        return self.browser.requested_urls()

    def until(self, condition: Callable[[], bool]) -> None:
        self.browser.until(condition)


@pytest.fixture
def graphiql(browser: Browser) -> GraphiQL:
    return GraphiQL(browser)


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    """GraphiQL is off unless switched on (`jobmonitor dev` does)."""
    settings = runtime.settings.model_copy(update={"graphiql": True})
    return create_app(runtime=replace(runtime, settings=settings))


async def test_graphiql_loads_offline_runs_a_query_and_shows_a_subscription_event(
    graphiql: GraphiQL, live_server: LiveServer, runtime: Runtime, tenant: str
) -> None:
    # given a pending job, and GraphiQL (with its explorer plugin) opened from the server on a
    # machine with no internet
    await given_workflows(runtime, tenant)
    job = await dispatch_job(runtime, tenant)
    await asyncio.to_thread(graphiql.open, f"{live_server.http_url}/graphql")

    # when it runs a query
    await asyncio.to_thread(graphiql.run, QUERY)
    queried = await asyncio.to_thread(graphiql.response_containing, str(job.number))

    # and a subscription, while the job is cancelled
    await asyncio.to_thread(graphiql.run, SUBSCRIPTION)
    await eventually(lambda: runtime.live.watching() >= 1, WAIT_SECONDS)
    await cancel_job(runtime, tenant, job.number)
    pushed = await asyncio.to_thread(graphiql.response_containing, "CANCELLED")

    # then it showed the job, then the event, and asked nothing of any other origin
    assert "Show GraphiQL Explorer" in await asyncio.to_thread(graphiql.sidebar)
    assert queried == {
        "data": {"jobs": {"edges": [{"node": {"number": job.number, "status": "PENDING"}}]}}
    }
    assert pushed == {
        "data": {"jobStatusChanged": {"status": "CANCELLED", "job": {"number": job.number}}}
    }
    urls = await asyncio.to_thread(graphiql.requested_urls)
    own = (live_server.http_url, live_server.ws_url.removesuffix("/graphql"), "data:")
    assert urls
    assert [url for url in urls if not url.startswith(own)] == []
    assert f"{live_server.ws_url}" in urls


@pytest.fixture
def authed_app(runtime: Runtime) -> FastAPI:
    settings = runtime.settings.model_copy(update={"auth": AuthMode.ENABLED, "graphiql": True})
    return create_app(runtime=replace(runtime, settings=settings))


async def test_with_auth_on_the_headers_are_prefilled_and_a_token_reaches_both_transports(
    graphiql: GraphiQL, authed_app: FastAPI, runtime: Runtime, tenant: str
) -> None:
    await given_workflows(runtime, tenant)
    job = await dispatch_job(runtime, tenant)
    token = await token_for(runtime, Role.VIEWER)
    async with serve(authed_app) as server:
        # given GraphiQL on a server that needs tokens
        await asyncio.to_thread(graphiql.open, f"{server.http_url}/graphql")
        await asyncio.to_thread(graphiql.until, lambda: "Bearer" in graphiql.editor_text(HEADERS))
        prefilled = await asyncio.to_thread(graphiql.editor_text, HEADERS)

        # when a token is filled in, then a query and a subscription run
        headers = json.dumps({"Authorization": f"Bearer {token}"})
        await asyncio.to_thread(graphiql.type_into, HEADERS, headers)
        await asyncio.to_thread(graphiql.run, QUERY)
        queried = await asyncio.to_thread(graphiql.response_containing, str(job.number))
        await asyncio.to_thread(graphiql.run, SUBSCRIPTION)
        await eventually(lambda: runtime.live.watching() >= 1, WAIT_SECONDS)
        await cancel_job(runtime, tenant, job.number)
        pushed = await asyncio.to_thread(graphiql.response_containing, "CANCELLED")

    # then the headers editor held an Authorization header to complete, and the token
    # was sent over HTTP and in the websocket's connection_init
    assert json.loads(prefilled) == {"Authorization": "Bearer "}
    assert queried["data"]["jobs"]["edges"] == [
        {"node": {"number": job.number, "status": "PENDING"}}
    ]
    assert pushed["data"]["jobStatusChanged"]["status"] == "CANCELLED"
