"""A Lambda context object with the attributes the runtime gives a handler."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace

from emulator.moto_server import ACCOUNT, REGION


@dataclass
class LocalLambdaContext:
    function_name: str = "function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    timeout_seconds: int = 300
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def fresh(self) -> LocalLambdaContext:
        """The context of the next invocation of the same function."""
        return replace(self, aws_request_id=str(uuid.uuid4()), _started=time.monotonic())

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))
