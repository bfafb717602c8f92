"""Object storage: chosen once from configuration here; nothing else imports an implementation."""

from __future__ import annotations

from functools import lru_cache

from app.core.config import get_settings
from app.storage.base import ObjectNotFound, ObjectStore, StorageError, content_key

__all__ = ["ObjectNotFound", "ObjectStore", "StorageError", "content_key", "get_store"]


@lru_cache
def get_store() -> ObjectStore:
    settings = get_settings()
    if settings.storage_backend == "s3":
        from app.storage.s3 import S3ObjectStore

        return S3ObjectStore(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            create_bucket=settings.s3_create_bucket,
        )
    from app.storage.local import LocalObjectStore

    return LocalObjectStore(settings.objects_root)
