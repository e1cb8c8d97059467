"""python -m examples.abalone definition --bucket B --role-arn R [--region us-east-1]   (prints the JSON)
python -m examples.abalone upload-code --bucket B                                   (puts the step scripts)"""

from __future__ import annotations

import argparse
import sys

from examples.abalone.pipeline import definition_json, upload_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.abalone")
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


if __name__ == "__main__":
    sys.exit(main())
