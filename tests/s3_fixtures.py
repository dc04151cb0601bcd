"""An S3 server for the blob-store tests: moto's, started once per test process on a port of its
own (README: what it does not emulate). Each test gets a bucket of its own with Object Lock on."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
KEYS = {"aws_access_key_id": "lianzheng-test", "aws_secret_access_key": "lianzheng-test-secret"}


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION, **KEYS)

    def environment(self) -> dict[str, str]:
        """The AWS variables that point boto3 at this server, as an operator would set them."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": REGION,
        }

    def new_bucket(self, object_lock: bool = True) -> str:
        name = f"evidence-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
        return name


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
