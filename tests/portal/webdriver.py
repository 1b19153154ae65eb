"""A minimal W3C WebDriver client over HTTP, for Debian's chromium + chromium-driver.

WebDriver is the protocol Selenium speaks to chromedriver; talking it with httpx directly
needs no package beyond the ones pinned already (Selenium's pins conflict with ours).
"""

from __future__ import annotations

import base64
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C web element identifier
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)


class WebDriverError(AssertionError):
    pass


class Browser:
    """One headless Chromium (fresh profile and download folder) driven over WebDriver."""

    def __init__(self) -> None:
        for path in (CHROMIUM, CHROMEDRIVER):
            if not path.exists():
                raise WebDriverError(
                    f"{path} is missing: install Debian's chromium and chromium-driver "
                    "(bash run.sh test does)"
                )
        self._tmp = tempfile.TemporaryDirectory(prefix="metering-browser-")
        self.downloads = Path(self._tmp.name) / "downloads"
        self.downloads.mkdir()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._driver = subprocess.Popen(
            [str(CHROMEDRIVER), f"--port={port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self._http.get("/status").json()["value"]["ready"]:
                    break
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            if time.monotonic() > deadline or self._driver.poll() is not None:
                self.close()
                raise WebDriverError("chromedriver did not start")
            time.sleep(0.05)
        options = {
            "binary": str(CHROMIUM),
            "args": [*HEADLESS, f"--user-data-dir={self._tmp.name}/profile"],
            "prefs": {
                "download.default_directory": str(self.downloads),
                "download.prompt_for_download": False,
                "plugins.always_open_pdf_externally": True,
            },
        }
        caps = {"browserName": "chrome", "goog:chromeOptions": options}
        answer = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        self.session = answer["sessionId"]

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=body)
        value = response.json().get("value")
        if response.status_code != 200:
            raise WebDriverError(f"{method} {path}: {value}")
        return value

    def _s(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    def get(self, url: str) -> None:
        self._s("POST", "/url", {"url": url})

    @property
    def url(self) -> str:
        return str(self._s("GET", "/url"))

    @property
    def source(self) -> str:
        return str(self._s("GET", "/source"))

    def find(self, css: str) -> str:
        found = self._s("POST", "/element", {"using": "css selector", "value": css})
        if ELEMENT not in found:
            raise WebDriverError(f"{css}: {found}")
        return str(found[ELEMENT])

    def type(self, css: str, text: str) -> None:
        self._s("POST", f"/element/{self.find(css)}/value", {"text": text})

    def click(self, css: str) -> None:
        self._s("POST", f"/element/{self.find(css)}/click", {})

    def submit(self, css: str, timeout: float = 60) -> None:
        """Click ``css`` and wait until the page it leads to has loaded.

        A form's navigation starts after the click returns, so reading the URL straight after
        a click can still see the old page (a race that shows on a loaded machine). The old
        document is marked first; the new one has no mark."""
        self._s("POST", "/execute/sync", {"script": "window.__leaving = true;", "args": []})
        self.click(css)
        deadline = time.monotonic() + timeout
        script = "return !window.__leaving && document.readyState === 'complete';"
        while not self._s("POST", "/execute/sync", {"script": script, "args": []}):
            if time.monotonic() > deadline:
                raise WebDriverError(f"clicking {css} led to no new page in {timeout} s")
            time.sleep(0.05)

    def text(self, css: str) -> str:
        return str(self._s("GET", f"/element/{self.find(css)}/text"))

    def cookies(self) -> list[dict[str, Any]]:
        return list(self._s("GET", "/cookie"))

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self._s("GET", "/screenshot")))
        return path

    def wait_for_download(self, suffix: str, timeout: float = 20) -> Path:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [p for p in self.downloads.iterdir() if p.name.endswith(suffix)]
            if done:
                return done[0]
            time.sleep(0.1)
        raise WebDriverError(f"no {suffix} downloaded into {self.downloads}")

    def close(self) -> None:
        try:
            if getattr(self, "session", None):
                self._call("DELETE", f"/session/{self.session}")
        finally:
            self._http.close()
            self._driver.terminate()
            self._driver.wait(timeout=10)
            self._tmp.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
