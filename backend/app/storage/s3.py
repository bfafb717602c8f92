"""Object store on any S3 API: MinIO, AWS S3, Cloudflare R2, moto in tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.storage.base import ObjectNotFound, ObjectStore, StorageError

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3ObjectStore(ObjectStore):
    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        create_bucket: bool = True,
    ) -> None:
        self.bucket = bucket
        self.create_bucket = create_bucket
        self._bucket_ready = False
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=3,
                read_timeout=30,
                s3={"addressing_style": "path"},
            ),
        )

    def _ensure_bucket(self) -> None:
        """Create the bucket on first use (reads of a new store find nothing, not an error)."""
        if self._bucket_ready:
            return
        try:
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code"))
                if code in _MISSING | {"NoSuchBucket"} and self.create_bucket:
                    self.client.create_bucket(Bucket=self.bucket)
                else:
                    raise
        except (BotoCoreError, ClientError) as exc:
            # never mistaken for a missing object by the callers' ClientError handling
            raise StorageError(f"S3 bucket {self.bucket!r} unavailable: {exc}") from exc
        self._bucket_ready = True

    def put(self, key: str, data: BinaryIO, *, size: int, content_type: str) -> None:
        try:
            self._ensure_bucket()
            self.client.upload_fileobj(
                data, self.bucket, key, ExtraArgs={"ContentType": content_type}
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 put failed: {exc}") from exc

    def open(self, key: str) -> BinaryIO:
        try:
            self._ensure_bucket()
            resp = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
                raise ObjectNotFound(key) from exc
            raise StorageError(f"S3 get failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 get failed: {exc}") from exc
        body: BinaryIO = resp["Body"]
        return body

    def exists(self, key: str) -> bool:
        try:
            self._ensure_bucket()
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
                return False
            raise StorageError(f"S3 head failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 head failed: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self._ensure_bucket()
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 delete failed: {exc}") from exc

    def iter_objects(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"], obj["LastModified"]
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) == "NoSuchBucket":
                return
            raise StorageError(f"S3 list failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 list failed: {exc}") from exc

    def check(self) -> None:
        try:
            self._ensure_bucket()
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 unreachable: {exc}") from exc
