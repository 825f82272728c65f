"""Helpers for the auth tests: tokens, Bearer headers, apps with chosen settings."""

from dataclasses import replace
from typing import Any

import httpx
from fastapi import FastAPI

from server.app import create_app
from server.auth import Role
from server.auth.store import create_token
from server.runtime import Runtime
from server.settings import AuthMode


async def token_for(runtime: Runtime, role: Role, *, tenant: str | None = None) -> str:
    issued = await create_token(
        runtime.session_factory, tenant=tenant or runtime.settings.default_tenant, role=role
    )
    return issued.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def app_with(runtime: Runtime, **settings: Any) -> FastAPI:
    """An app over `runtime` with auth enabled and the given settings changed."""
    changed = runtime.settings.model_copy(update={"auth": AuthMode.ENABLED, **settings})
    return create_app(runtime=replace(runtime, settings=changed))


async def post(
    http: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> httpx.Response:
    headers = bearer(token) if token is not None else {}
    return await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
