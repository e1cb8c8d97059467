"""Headless Chromium (Debian's chromium-headless-shell) driven over the DevTools protocol, standard library only.

The browser is started with --remote-debugging-pipe: it reads protocol commands from file descriptor
3 and writes answers and events to 4, each a JSON message ended by a NUL byte. The page under test is
loaded as it is; nothing is added to it. What the browser laid out is asked through the protocol:
Page.getLayoutMetrics for the document's size, Runtime.evaluate for the boxes of chosen elements, and
Page.captureScreenshot for the picture.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell", "chromium")
INSTALL = "apt-get install -y chromium-headless-shell"


def find_chromium() -> str | None:
    for candidate in CANDIDATES:
        found = shutil.which(candidate) or (candidate if os.access(candidate, os.X_OK) else None)
        if found:
            return found
    return None


class Browser:
    """One headless browser and one page of it, at a given window width."""

    def __init__(self, executable: str, width: int, height: int = 900) -> None:
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()

        def on_fds_3_and_4() -> None:
            """In the child: its end of each pipe where the browser looks for them (moved above 9 first,
            so that neither is overwritten by the other; dup2 leaves them open across exec)."""
            read, write = fcntl.fcntl(commands_read, fcntl.F_DUPFD, 10), fcntl.fcntl(answers_write, fcntl.F_DUPFD, 10)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self._process = subprocess.Popen(
            [
                executable,
                "--remote-debugging-pipe",
                "--no-sandbox",
                "--hide-scrollbars",
                f"--window-size={width},{height}",
            ],
            preexec_fn=on_fds_3_and_4,  # noqa: PLW1509 - the test starts no thread that could hold a lock here
            close_fds=False,  # closing would happen after preexec_fn and take 3 and 4 too; Python's own are CLOEXEC
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(answers_write)
        self._buffer = b""
        self._next_id = 0
        self.width, self.height = width, height
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.send("Page.enable")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command (to the page once attached) and return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if getattr(self, "_session", None):
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return dict(answer.get("result") or {})

    def wait_for(self, event: str) -> dict[str, Any]:
        while True:
            message = self._read()
            if message.get("method") == event:
                return dict(message.get("params") or {})

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise RuntimeError("the browser closed its protocol pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return dict(json.loads(message))

    def open(self, page: Path) -> None:
        self.send("Page.navigate", url=page.resolve().as_uri())
        self.wait_for("Page.loadEventFired")

    def content_size(self) -> tuple[float, float]:
        """The laid-out document's width and height in CSS pixels (its scrollable size)."""
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        return float(size["width"]), float(size["height"])

    def evaluate(self, expression: str) -> Any:
        """The value of an expression in the page (the test's question to the layout; the page has no script)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(str(result["exceptionDetails"]))
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        """The whole page, at the window's width, as PNG."""
        _, height = self.content_size()
        clip = {"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1}
        shot = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self._session = ""
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        finally:
            os.close(self._commands)
            os.close(self._answers)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
