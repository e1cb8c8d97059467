"""The reports a run of the bundled pipeline writes (data_report.json, evaluation.json), read as
a person needs them: what it trained on and how it scored. A foreign pipeline writes neither."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trigger.reports import DATA_REPORT_FILE, DATA_REPORT_OUTPUT, EVALUATION_FILE, EVALUATION_OUTPUT, RUN_REPORT_FILE

# Where the pipeline's Preprocess and Evaluate steps write them, under the run's own folder.
DATA_REPORT = f"{DATA_REPORT_OUTPUT}/{DATA_REPORT_FILE}"
EVALUATION = f"{EVALUATION_OUTPUT}/{EVALUATION_FILE}"
RUN_REPORT = f"{EVALUATION_OUTPUT}/{RUN_REPORT_FILE}"  # report.html, beside evaluation.json


@dataclass(frozen=True)
class RunReports:
    data_report: dict[str, Any] | None
    evaluation: dict[str, Any] | None
    folder_uri: str | None = None  # s3://<bucket>/<runs prefix><execution id>/

    @property
    def report_uri(self) -> str | None:
        """report.html, where Evaluate says it drew one."""
        drawn = ((self.evaluation or {}).get("report") or {}).get("drawn") is True
        return f"{self.folder_uri}{RUN_REPORT}" if drawn and self.folder_uri else None

    @property
    def report_not_drawn(self) -> str | None:
        """Why Evaluate drew no report (the run and its decision stand), or None."""
        report = (self.evaluation or {}).get("report") or {}
        return str(report.get("reason") or "no reason given") if report.get("drawn") is False else None

    @property
    def refusal(self) -> str | None:
        """Why the data could not train a model, or why the model was not good enough."""
        if self.data_report and self.data_report.get("accepted") is False:
            return f"the data was refused: {self.data_report.get('reason')}"
        gate = (self.evaluation or {}).get("gate") or {}
        if gate.get("passed") is False:
            return str(gate.get("reason"))
        return None
