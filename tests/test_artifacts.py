"""Artifacts on both databases (the directory store on SQLite, the database's own on
PostgreSQL): stored safely, served with ETag and ranges to their tenant only, capped."""

import os
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from strawberry.relay import GlobalID

from server.auth import Role
from server.db.models import Artifact
from server.domain.errors import InvalidArgument
from server.runtime import Runtime, artifacts_for
from server.services.artifacts.database import CHUNK_BYTES
from server.services.artifacts.directory import DirectoryStore
from server.services.artifacts.service import ArtifactLimits, ArtifactService, Upload
from tests.support.auth import app_with, bearer, token_for
from tests.support.factories import build_world
from tests.support.graphql import GraphQLClient, serving

ARTIFACTS = """
query($number: Int!) {
  job(number: $number) {
    artifacts { id name contentType sizeBytes step url }
    steps { index artifacts { name } }
  }
}
"""
CONTENT = os.urandom(2 * CHUNK_BYTES + 1234)  # three chunks in the database's store
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def upload(job_number: int, tenant: str, name: str, source: Path, step: int = 0) -> Upload:
    return Upload(
        tenant=tenant, job_number=job_number, step=step, attempt=1, name=name, source=source
    )


async def test_an_artifact_downloads_whole_in_ranges_and_by_etag(
    runtime: Runtime, tenant: str, gql: GraphQLClient, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    # given a job with a video and a screenshot, the video uploaded under a hostile name
    job = (await build_world(runtime.session_factory, tenant, [{"step_count": 1}])).jobs[0]
    video, shot = tmp_path / "video", tmp_path / "shot"
    video.write_bytes(CONTENT)
    shot.write_bytes(PNG)
    await runtime.artifacts.add(upload(job.number, tenant, "../../etc/passwd", video))
    await runtime.artifacts.add(upload(job.number, tenant, "shots/a\x00b.txt", shot))

    # then the job lists them under safe names, typed by their content
    listed = (await gql.execute(ARTIFACTS, number=job.number))["job"]["artifacts"]
    assert [(a["name"], a["contentType"], a["sizeBytes"], a["step"]) for a in listed] == [
        ("etc/passwd", "application/octet-stream", len(CONTENT), 0),
        ("shots/ab.txt", "image/png", len(PNG), 0),
    ]
    url = listed[0]["url"]
    assert url == f"/artifacts/{GlobalID.from_id(listed[0]['id']).node_id}"

    # and the whole download is the content, as an attachment with an ETag
    whole = await client.get(url)
    assert whole.status_code == 200
    assert whole.content == CONTENT
    assert whole.headers["content-disposition"] == (
        "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"
    )
    assert whole.headers["accept-ranges"] == "bytes"
    etag = whole.headers["etag"]

    # and ranges across chunk boundaries, from the end, and past it
    start, end = CHUNK_BYTES - 10, 2 * CHUNK_BYTES + 9
    part = await client.get(url, headers={"Range": f"bytes={start}-{end}"})
    assert (part.status_code, part.content) == (206, CONTENT[start : end + 1])
    assert part.headers["content-range"] == f"bytes {start}-{end}/{len(CONTENT)}"
    tail = await client.get(url, headers={"Range": "bytes=-100"})
    assert (tail.status_code, tail.content) == (206, CONTENT[-100:])
    beyond = await client.get(url, headers={"Range": f"bytes={len(CONTENT)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(CONTENT)}"
    stale = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert (stale.status_code, stale.content) == (200, CONTENT)

    # and a client holding the same content is told so
    same = await client.get(url, headers={"If-None-Match": etag})
    assert (same.status_code, same.content) == (304, b"")


async def test_another_tenants_artifact_is_not_found(
    runtime: Runtime, tenant: str, tmp_path: Path
) -> None:
    other = f"{tenant}-b"
    theirs = (await build_world(runtime.session_factory, other, [{}])).jobs[0]
    source = tmp_path / "file"
    source.write_bytes(b"secret")
    artifact = await runtime.artifacts.add(upload(theirs.number, other, "secret.txt", source))
    token = await token_for(runtime, Role.ADMIN)
    async with serving(app_with(runtime)) as http:
        denied = await http.get(f"/artifacts/{artifact.id}", headers=bearer(token))
        missing = await http.get("/artifacts/99999999999", headers=bearer(token))
        anonymous = await http.get(f"/artifacts/{artifact.id}")
    assert (denied.status_code, missing.status_code, anonymous.status_code) == (404, 404, 401)
    assert "secret" not in denied.text


async def test_names_and_sizes_that_cannot_be_kept_are_refused(
    runtime: Runtime, tenant: str, tmp_path: Path
) -> None:
    job = (await build_world(runtime.session_factory, tenant, [{}])).jobs[0]
    settings = runtime.settings.model_copy(
        update={"artifact_max_bytes": 1000, "artifact_job_max_bytes": 1500}
    )
    capped = artifacts_for(
        settings, runtime.session_factory, runtime.bus, dialect=runtime.engine.dialect.name
    )
    small, large = tmp_path / "small", tmp_path / "large"
    small.write_bytes(b"x" * 900)
    large.write_bytes(b"x" * 1001)

    with pytest.raises(InvalidArgument, match="no usable artifact name"):
        await capped.add(upload(job.number, tenant, "\x00/../", small))
    with pytest.raises(InvalidArgument, match="cap per artifact"):
        await capped.add(upload(job.number, tenant, "large.bin", large))
    await capped.add(upload(job.number, tenant, "first.bin", small))
    with pytest.raises(InvalidArgument, match="over 1500 bytes"):
        await capped.add(upload(job.number, tenant, "second.bin", small))
    # the same name again replaces the first, which the job's cap allows
    replaced = await capped.add(upload(job.number, tenant, "first.bin", small))

    async with runtime.session_factory() as session:
        kept = await session.scalars(select(Artifact.id).where(Artifact.job_number == job.number))
        assert list(kept) == [replaced.id]


async def test_deleting_a_job_forgets_its_artifacts(
    runtime: Runtime, tenant: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    job = (await build_world(runtime.session_factory, tenant, [{}])).jobs[0]
    source = tmp_path / "file"
    source.write_bytes(CONTENT)
    artifact = await runtime.artifacts.add(upload(job.number, tenant, "f.bin", source))
    assert await stored(runtime, artifact) == CONTENT

    await runtime.deletion.delete(tenant=tenant, numbers=[job.number], job_filter=None, actor="t")

    assert (await client.get(f"/artifacts/{artifact.id}")).status_code == 404
    assert await stored(runtime, artifact) == b""


async def stored(runtime: Runtime, artifact: Artifact) -> bytes:
    """What the store holds for the artifact (nothing, once it is forgotten)."""
    try:
        return b"".join([c async for c in runtime.artifacts.read(artifact, 0, artifact.size_bytes)])
    except FileNotFoundError:
        return b""


async def test_an_upload_the_store_cannot_keep_leaves_nothing(
    runtime: Runtime, tenant: str, tmp_path: Path
) -> None:
    # given a directory store whose directory is a file (a full or read-only disk alike)
    job = (await build_world(runtime.session_factory, tenant, [{}])).jobs[0]
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    broken = ArtifactService(
        runtime.session_factory,
        runtime.bus,
        DirectoryStore(blocked),
        ArtifactLimits(per_artifact=1000, per_job=1000),
    )
    source = tmp_path / "file"
    source.write_bytes(b"x" * 10)

    # when a file is uploaded, the store's error comes through
    with pytest.raises(OSError, match="not-a-directory"):
        await broken.add(upload(job.number, tenant, "file.bin", source))

    # and the row, pending while the bytes went in, is gone too
    async with runtime.session_factory() as session:
        left = await session.scalars(select(Artifact.id).where(Artifact.job_number == job.number))
        assert list(left) == []
