"""python -m examples.own_pipeline definition --bucket B --role-arn R [--region us-east-1]   (prints the JSON)
python -m examples.own_pipeline upload-code --bucket B                                   (puts the step scripts)"""

from __future__ import annotations

import sys

from examples.command_line import main
from examples.own_pipeline.pipeline import definition_json, upload_code

if __name__ == "__main__":
    sys.exit(main("python -m examples.own_pipeline", definition_json, upload_code, sys.argv[1:]))
