"""A real headless Chromium for the HTML report tests, driven over the DevTools protocol.

Chromium is started once per test session with `--remote-debugging-pipe`: the protocol's JSON
messages, each ended by a NUL byte, go over the child's file descriptors 3 (commands in) and 4
(replies and events out), so the standard library is enough (no websocket client, no
Selenium). Every page gets its own target; the browser records each page's console messages,
uncaught exceptions, log entries (CSP violations land there) and every request it was about
to send. All network schemes are blocked and every host name resolves to nothing, so a page
that tries to load anything records the attempt and gets nothing.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Json = dict[str, Any]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-pipe",
)
BLOCKED_URLS = ("http://*", "https://*", "ws://*", "wss://*", "ftp://*")
TIMEOUT = 30.0


def embedded_data(page_text: str) -> Json:
    """The JSON data block of a pyimgsize HTML page."""
    match = re.search(
        r'<script type="application/json" id="pyimgsize-data">(.*?)</script>', page_text, re.S
    )
    assert match is not None, "no data block in the page"
    data: Json = json.loads(match.group(1))
    return data


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(Exception):
    pass


@dataclass
class Page:
    """One tab: its session id and what it recorded."""

    browser: Browser
    session: str
    target: str
    console: list[Json] = field(default_factory=list)
    exceptions: list[Json] = field(default_factory=list)
    log: list[Json] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def send(self, method: str, **params: Any) -> Json:
        return self.browser.send(method, params, session=self.session)

    def open(self, url: str, *, width: int = 1400, height: int = 900) -> None:
        """Load `url` in a `width` x `height` viewport and wait for its load event."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        waiter = self.browser.expect("Page.loadEventFired", self.session)
        self.send("Page.navigate", url=url)
        waiter.wait()
        self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def evaluate(self, expression: str) -> Any:
        """The value of a JS expression (promises awaited); a thrown error raises."""
        reply = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression!r} threw: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def mouse(self, kind: str, x: float, y: float) -> None:
        """A real input event at viewport coordinates: `mouseMoved`, or a left click."""
        if kind == "mouseMoved":
            self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
            return
        for event in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=event, x=x, y=y, button="left", clickCount=1)

    def center(self, selector: str) -> tuple[float, float]:
        """The viewport centre of the first element matching `selector`."""
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        return float(box[0]), float(box[1])

    def click(self, selector: str) -> None:
        self.mouse("click", *self.center(selector))

    def hover(self, selector: str) -> None:
        self.mouse("mouseMoved", *self.center(selector))

    def type_text(self, text: str) -> None:
        self.send("Input.insertText", text=text)

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])
        path.write_bytes(data)
        return data

    def errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and error log entries, as text."""
        out = [
            f"console.{m['type']}: {m.get('args')}"
            for m in self.console
            if m.get("type") in ("error", "warning", "assert")
        ]
        out += [f"exception: {e.get('exceptionDetails', e)}" for e in self.exceptions]
        out += [
            f"log {e['entry'].get('level')}: {e['entry'].get('text')}"
            for e in self.log
            if e["entry"].get("level") in ("error", "warning")
        ]
        return out

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})


class _Waiter:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.message: Json = {}

    def wait(self) -> Json:
        if not self.event.wait(TIMEOUT):
            raise BrowserError("timed out waiting for the browser")
        return self.message


class Browser:
    """A Chromium process and its protocol pipe."""

    def __init__(self, executable: str) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="pyimgsize-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire_fds() -> None:  # runs in the child: the pipe ends become fds 3 and 4
            high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)  # out of the way of 3 and 4
            high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire_fds,  # noqa: PLW1509 - a test helper, started once per session
            close_fds=False,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._lock = threading.Lock()
        self._replies: dict[int, _Waiter] = {}
        self._expected: list[tuple[str, str | None, _Waiter]] = []
        self.pages: dict[str, Page] = {}
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()
        self.version = self.send("Browser.getVersion", {})["product"]

    # --- protocol --------------------------------------------------------------------------

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_child, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._lock:
                    for waiter in self._replies.values():
                        waiter.message = {"error": {"message": "browser closed"}}
                        waiter.event.set()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                self._dispatch(json.loads(raw))

    def _dispatch(self, message: Json) -> None:
        if "id" in message:
            with self._lock:
                waiter = self._replies.pop(message["id"], None)
            if waiter is not None:
                waiter.message = message
                waiter.event.set()
            return
        method, session = message.get("method", ""), message.get("sessionId")
        params = message.get("params", {})
        page = self.pages.get(session or "")
        if page is not None:
            if method == "Runtime.consoleAPICalled":
                page.console.append(params)
            elif method == "Runtime.exceptionThrown":
                page.exceptions.append(params)
            elif method == "Log.entryAdded":
                page.log.append(params)
            elif method == "Network.requestWillBeSent":
                page.requests.append(params["request"]["url"])
        with self._lock:
            for entry in list(self._expected):
                if entry[0] == method and entry[1] in (None, session):
                    self._expected.remove(entry)
                    entry[2].message = message
                    entry[2].event.set()

    def expect(self, method: str, session: str | None) -> _Waiter:
        """A waiter for the next `method` event (register before causing it)."""
        waiter = _Waiter()
        with self._lock:
            self._expected.append((method, session, waiter))
        return waiter

    def send(self, method: str, params: Json, *, session: str | None = None) -> Json:
        waiter = _Waiter()
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            self._replies[ident] = waiter
        message: Json = {"id": ident, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        reply = waiter.wait()
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        result: Json = reply.get("result", {})
        return result

    # --- pages -----------------------------------------------------------------------------

    def new_page(self) -> Page:
        """A fresh tab with console, log and network recording on and the network blocked."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session, target)
        self.pages[session] = page
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.send(f"{domain}.enable")
        page.send("Network.setBlockedURLs", urls=list(BLOCKED_URLS))
        return page

    def png_stats(self, png: bytes) -> Json:
        """Decode a PNG in a blank page (a canvas) and describe its pixels: `width`, `height`,
        `colours` (distinct RGB values on a grid of samples) and `non_white` (their share that
        is not near-white)."""
        page = self.new_page()
        try:
            url = "data:image/png;base64," + base64.b64encode(png).decode()
            stats: Json = page.evaluate(
                "new Promise((resolve, reject) => { const img = new Image();"
                " img.onerror = () => reject(new Error('not a PNG'));"
                " img.onload = () => { const c = document.createElement('canvas');"
                " c.width = img.width; c.height = img.height; const g = c.getContext('2d');"
                " g.drawImage(img, 0, 0); const d = g.getImageData(0, 0, c.width, c.height).data;"
                " const seen = new Set(); let n = 0, dark = 0;"
                " for (let y = 0; y < c.height; y += 7) for (let x = 0; x < c.width; x += 7) {"
                " const i = (y * c.width + x) * 4; seen.add((d[i] << 16) | (d[i+1] << 8) | d[i+2]);"
                " n++; if (d[i] + d[i+1] + d[i+2] < 720) dark++; }"
                " resolve({width: c.width, height: c.height, colours: seen.size,"
                " non_white: dark / n}); }; img.src = " + json.dumps(url) + "; })"
            )
        finally:
            page.close()
        return stats

    def close(self) -> None:
        with contextlib.suppress(BrowserError):
            self.send("Browser.close", {})
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        deadline = time.monotonic() + 5
        while self._reader.is_alive() and time.monotonic() < deadline:
            self._reader.join(0.1)
        os.close(self._from_child)
        self._profile.cleanup()
