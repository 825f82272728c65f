"""A secured Temporal for the tests: X.509 v3 certificates made here (a CA, the server's, a
client's) and a proxy on 127.0.0.1 that terminates mutual TLS, negotiates ALPN `h2` as gRPC
needs, and pipes each connection to a plain Temporal dev server.

`stop_answering()` makes it refuse new connections and pass nothing more on the open ones, as
a Temporal that went away would look from here.
"""

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from server.net import free_port
from server.settings import Settings

SERVER_NAME = "temporal.jobmonitor.test"
CHUNK = 1 << 16


@dataclass(frozen=True)
class Certificates:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path
    """A client certificate signed by another CA: the proxy refuses it."""
    stranger_key: Path


def make_certificates(folder: Path) -> Certificates:
    ca_key, ca_cert = _authority("jobmonitor test CA")
    stranger_ca_key, stranger_ca = _authority("someone else's CA")
    files = Certificates(
        ca=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
        stranger_cert=folder / "stranger.pem",
        stranger_key=folder / "stranger.key",
    )
    _write_pem(files.ca, ca_cert)
    server = x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME), x509.DNSName("localhost")])
    _issue(
        files.server_cert,
        files.server_key,
        ca_key,
        ca_cert,
        server,
        ExtendedKeyUsageOID.SERVER_AUTH,
    )
    client = x509.SubjectAlternativeName([x509.DNSName("worker.jobmonitor.test")])
    _issue(
        files.client_cert,
        files.client_key,
        ca_key,
        ca_cert,
        client,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    _issue(
        files.stranger_cert,
        files.stranger_key,
        stranger_ca_key,
        stranger_ca,
        client,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    return files


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _authority(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        _builder(common_name, _name(common_name), key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _issue(
    cert_path: Path,
    key_path: Path,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    names: x509.SubjectAlternativeName,
    usage: x509.ObjectIdentifier,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        _builder("jobmonitor test", ca_cert.subject, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(names, critical=False)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_pem(cert_path, certificate)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _write_pem(path: Path, certificate: x509.Certificate) -> None:
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


class MutualTlsProxy:
    """Listens on 127.0.0.1 with TLS that requires a client certificate of the test CA."""

    def __init__(self, certificates: Certificates, upstream: str) -> None:
        self.port = free_port()
        self._upstream_host, upstream_port = upstream.rsplit(":", 1)
        self._upstream_port = int(upstream_port)
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(certificates.server_cert, certificates.server_key)
        self._context.load_verify_locations(certificates.ca)
        self._context.verify_mode = ssl.CERT_REQUIRED
        self._context.set_alpn_protocols(["h2"])
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._ends: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop_answering(self) -> None:
        if self._server is not None:
            self._server.close()
        self._flowing.clear()

    @asynccontextmanager
    async def running(self) -> AsyncIterator["MutualTlsProxy"]:
        server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, ssl=self._context, ssl_handshake_timeout=5
        )
        self._server = server
        try:
            yield self
        finally:
            server.close()
            self._flowing.set()
            for end in list(self._ends):
                end.close()
            await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self._upstream_host, self._upstream_port
            )
        except OSError:
            writer.close()
            return
        ends = (writer, upstream_writer)
        self._ends.update(ends)
        try:
            await asyncio.gather(
                self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
            )
        finally:
            for end in ends:
                end.close()
                self._ends.discard(end)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(OSError, ssl.SSLError):
            while data := await reader.read(CHUNK):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        writer.close()


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture(scope="session")
async def secured_temporal(
    temporal_address: str, certificates: Certificates
) -> AsyncIterator[MutualTlsProxy]:
    """The session's dev server behind a proxy that requires a client certificate."""
    async with MutualTlsProxy(certificates, temporal_address).running() as proxy:
        yield proxy


def secured_settings(
    settings: Settings, proxy: MutualTlsProxy, certificates: Certificates
) -> Settings:
    return settings.model_copy(
        update={
            "temporal_address": proxy.address,
            "temporal_tls_ca": certificates.ca,
            "temporal_tls_cert": certificates.client_cert,
            "temporal_tls_key": certificates.client_key,
            "temporal_tls_server_name": SERVER_NAME,
        }
    )
