"""List the data prefix for an AllObjects run that is told its input's size (S3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trigger.runs import ListedObject

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class DataListing:
    def __init__(self, client: S3Client) -> None:
        self._client = client

    def objects_under(self, bucket: str, prefix: str) -> tuple[ListedObject, ...]:
        """Every object with data under ``prefix``, in key order. A folder marker (a key ending in /)
        and an empty object hold no rows: the run would read nothing from them."""
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return tuple(
            ListedObject(key=item["Key"], size=item["Size"])
            for page in pages
            for item in page.get("Contents", [])
            if item["Size"] > 0 and not item["Key"].endswith("/")
        )
