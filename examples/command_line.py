"""What both examples' `python -m` commands do: print the definition JSON, or put the step scripts."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def main(
    prog: str,
    definition_json: Callable[[str, str, str], str],
    upload_code: Callable[[str], list[str]],
    argv: list[str] | None,
) -> int:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("command", choices=["definition", "upload-code"])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--role-arn", default="arn:aws:iam::123456789012:role/pipeline")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    if args.command == "definition":
        print(definition_json(args.role_arn, args.bucket, args.region))
    else:
        for uri in upload_code(args.bucket):
            print(f"uploaded {uri}")
    return 0
