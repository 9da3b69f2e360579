"""Headless Chromium driven over the DevTools protocol (for screenshots of the Airflow UI).

Chromium comes from the OS (Debian: ``apt-get install -y chromium``); :func:`chromium_path` is
None when it is absent so tests can skip. The browser runs in its own session with a throwaway
profile and is stopped with everything it started.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.airflow_server import stop_all, wait_until

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


class DevTools:
    """One page target: send commands, wait for conditions, take screenshots."""

    def __init__(self, websocket: Any) -> None:
        self.websocket = websocket
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command and return its result (events arriving meanwhile are ignored)."""
        call_id = next(self.ids)
        self.websocket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.websocket.recv(timeout=60))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, ready: str = "document.readyState === 'complete'", timeout: float = 60) -> None:
        """Navigate and wait until the JavaScript condition ``ready`` holds."""
        self.call("Page.navigate", url=url)
        wait_until(lambda: self.evaluate(ready), timeout, f"{url} to be ready", interval=0.5)

    def screenshot(self, path: Path, scale: float = 1.0) -> bytes:
        """A PNG of the viewport; ``scale`` < 1 makes a smaller picture of the same view."""
        params: dict[str, Any] = {"format": "png"}
        if scale != 1.0:
            width, height = self.evaluate("[innerWidth, innerHeight]")
            params["clip"] = {"x": 0, "y": 0, "width": width, "height": height, "scale": scale}
        data = base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data


def _page_websocket_url(profile: Path, timeout: float) -> str:
    """The DevTools URL of the browser's first page (the port is in ``DevToolsActivePort``)."""
    port_file = profile / "DevToolsActivePort"
    wait_until(port_file.exists, timeout, "Chromium's DevTools port", interval=0.2)
    port = port_file.read_text().split()[0]
    targets = wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json(), timeout,
                         "a Chromium page")
    return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")


@contextmanager
def headless_chromium(profile: Path, width: int = 1600, height: int = 1000,
                      timeout: float = 60) -> Iterator[DevTools]:
    """A headless Chromium with a fresh profile in ``profile``; stopped on exit."""
    from websockets.sync.client import connect

    browser = chromium_path()
    if browser is None:
        raise RuntimeError("Chromium is not installed (Debian: apt-get install -y chromium)")
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "DevToolsActivePort").unlink(missing_ok=True)  # a previous browser's port, not this one's
    args = [browser, "--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--remote-debugging-port=0", f"--user-data-dir={profile}", f"--window-size={width},{height}",
            *(["--no-sandbox"] if os.geteuid() == 0 else []), "about:blank"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        with connect(_page_websocket_url(profile, timeout), max_size=None) as websocket:
            yield DevTools(websocket)
    finally:
        stop_all([process], timeout=10)
