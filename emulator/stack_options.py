"""What `retrain-trigger local up` is asked for: its options, read without loading the emulator
(the command line builds its help from them; `local up` loads moto only when it runs)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

__all__ = ["StackOptions", "add_stack_options", "stack_options"]


@dataclass(frozen=True)
class StackOptions:
    """What `local up` was asked for: the bundled pipeline's target, or a pipeline of one's own."""

    target: str | None = None
    pipeline_name: str | None = None
    pipeline_parameters: str | None = None
    pipeline_definition: Path | None = None
    overrides: tuple[str, ...] = ()  # Name=value template parameters

    def as_arguments(self) -> list[str]:
        arguments = [*(("--target", self.target) if self.target else ())]
        arguments += [*(("--pipeline-name", self.pipeline_name) if self.pipeline_name else ())]
        if self.pipeline_parameters is not None:
            arguments += ["--pipeline-parameters", self.pipeline_parameters]
        arguments += [*(("--pipeline-definition", str(self.pipeline_definition)) if self.pipeline_definition else ())]
        return arguments + [part for override in self.overrides for part in ("--override", override)]

    def template_parameters(self) -> dict[str, str]:
        given = dict(override.split("=", 1) for override in self.overrides)
        if self.pipeline_name:
            given["PipelineName"] = self.pipeline_name
        if self.pipeline_parameters is not None:
            given["PipelineParameters"] = self.pipeline_parameters
        return given


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", help="the target column of the CSVs you upload (default: the pipeline's, 'target')")
    parser.add_argument("--pipeline-name", help="the pipeline the trigger starts (template parameter PipelineName)")
    parser.add_argument("--pipeline-parameters", help="the mapping (template parameter PipelineParameters)")
    parser.add_argument(
        "--pipeline-definition", type=Path, help="create your own pipeline from its definition JSON instead"
    )
    parser.add_argument(
        "--override", action="append", default=[], metavar="NAME=VALUE", help="another template parameter"
    )


def stack_options(args: argparse.Namespace) -> StackOptions:
    for override in args.override:
        if "=" not in override:
            raise SystemExit(f"retrain-trigger local: error: --override {override}: write NAME=VALUE")
    definition = args.pipeline_definition.resolve() if args.pipeline_definition else None
    if definition is not None and not definition.is_file():
        raise SystemExit(f"retrain-trigger local: error: --pipeline-definition {definition}: no such file")
    if definition is not None and not args.pipeline_name:
        raise SystemExit("retrain-trigger local: error: --pipeline-definition needs --pipeline-name")
    return StackOptions(args.target, args.pipeline_name, args.pipeline_parameters, definition, tuple(args.override))
