"""python -m examples.abalone definition --bucket B --role-arn R [--region us-east-1]   (prints the JSON)
python -m examples.abalone upload-code --bucket B                                   (puts the step scripts)"""

from __future__ import annotations

import sys

from examples.abalone.pipeline import definition_json, upload_code
from examples.command_line import main

if __name__ == "__main__":
    sys.exit(main("python -m examples.abalone", definition_json, upload_code, sys.argv[1:]))
