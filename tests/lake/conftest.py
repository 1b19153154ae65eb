"""A real S3 API on loopback: moto's server mode (HTTP, SigV4), one per test process.

Each test gets its own bucket, so tests stay independent under xdist. The lake is reached
through our own code (pyarrow's S3 client) over HTTP; nothing of ours is mocked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

moto_server = pytest.importorskip("moto.server")

ACCESS_KEY = "AKIDLAKETEST0001"
SECRET_KEY = "lake-secret-9f2c1e7d"


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # http://127.0.0.1:<port>

    def boto(self, service: str = "s3", key: str = ACCESS_KEY, secret: str = SECRET_KEY):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
        )


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    """A fresh, empty bucket of its own for each test."""
    name = f"lake-{uuid.uuid4().hex[:12]}"
    s3_server.boto().create_bucket(Bucket=name)
    return name


def lake_section(
    directory: Path,
    endpoint: str,
    root: str,
    *,
    key: str = ACCESS_KEY,
    secret: str = SECRET_KEY,
) -> str:
    """The ``[lake]`` table of a provider config for an S3 lake; keys in private files."""
    secrets = directory / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "lake-key").write_text(key + "\n", encoding="utf-8")
    (secrets / "lake-secret").write_text(secret + "\n", encoding="utf-8")
    return (
        "\n[lake]\n"
        f'root = "{root}"\n'
        f'endpoint_url = "{endpoint}"\n'
        'region = "us-east-1"\n'
        'access_key_id_file = "secrets/lake-key"\n'
        'secret_access_key_file = "secrets/lake-secret"\n'
        "timeout_seconds = 10\n"
    )
