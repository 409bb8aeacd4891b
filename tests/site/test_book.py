"""``make book``: the static website of the committed notebooks (``lmf.site``).

One build per session (into a temporary folder, timed: it must stay under 60 s), then static
checks (every notebook has a page, every image and internal link resolves, every published figure
and table of the LMF paper is on the landing page with a published and a regenerated number, no
machine path in any page) and a headless Chromium driven over the DevTools protocol (no console
error, no broken image, no horizontally overflowing page; screenshots of the landing page and
notebook 04 under the test's tmp folder). Chromium is Debian's ``chromium`` package: installed
with apt-get when missing and running as root, skipped otherwise.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lmf import site

pytestmark = pytest.mark.slow

BUILD_LIMIT_S = 60


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    start = time.perf_counter()
    index = site.build(out)
    seconds = time.perf_counter() - start
    print(f"book built in {seconds:.1f} s")
    return {"index": index, "root": index.parent, "seconds": seconds}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.links, self.ids = [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _pages(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.html") if "_static" not in p.parts)


def _local(href: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", href) and not href.startswith("//")


def test_build_time(book):
    assert book["seconds"] < BUILD_LIMIT_S, f"the book took {book['seconds']:.1f} s to build"


def test_every_notebook_has_a_page(book):
    for number, notebook in site.notebook_pages().items():
        page = book["root"] / "notebooks" / f"{notebook.stem}.html"
        assert page.exists(), f"notebook {number} has no page"
        text = " ".join(re.sub(r"<[^>]+>", " ", page.read_text()).split())
        assert "Run this yourself" in text and f"--only {number}" in text
        assert "parameters" in text or "PROFILE" in text  # the parameters cell is shown
    for name, *_ in site.NOTES:
        assert (book["root"] / f"{name}.html").exists()


def test_images_and_internal_links_resolve(book):
    root = book["root"]
    broken = []
    ids = {page: _parse(page).ids for page in _pages(root)}
    for page in _pages(root):
        parsed = _parse(page)
        for src in parsed.images:
            if src.startswith("data:"):
                continue
            target = (page.parent / urllib.parse.unquote(src.split("?")[0])).resolve()
            if not target.is_file():
                broken.append(f"{page.relative_to(root)}: <img src={src}>")
        for href in parsed.links:
            if not _local(href):
                continue
            path, _, fragment = href.partition("#")
            target = (page.parent / urllib.parse.unquote(path)).resolve() if path else page
            if not target.is_file():
                broken.append(f"{page.relative_to(root)}: <a href={href}>")
            elif fragment and target.suffix == ".html" and target in ids \
                    and fragment not in ids[target]:
                broken.append(f"{page.relative_to(root)}: <a href={href}> (no such id)")
            if target.is_file() and not target.is_relative_to(root.resolve()):
                broken.append(f"{page.relative_to(root)}: <a href={href}> leaves the site")
    assert not broken, "\n".join(broken)


def test_landing_page_has_every_lmf_figure_and_table(book):
    text = book["index"].read_text()
    rows = dict(re.findall(r'<tr data-item="([^"]+)">(.*?)</tr>', text, re.S))
    wanted = [f"LMF Fig {n}" for n in range(1, 5)] + [f"LMF Table {n}" for n in range(1, 7)]
    wanted += [f"Cui et al. 2024 Table {n}" for n in range(1, 7)] + ["Scholz et al. 2024 claim"]
    for item in wanted:
        assert item in rows, f"{item} is missing from the landing page"
        cells = re.findall(r"<td[^>]*>(.*?)</td>", rows[item], re.S)
        published, regenerated = cells[3], cells[4]
        assert re.search(r"\d", published), f"{item}: no published number ({published!r})"
        assert re.search(r"\d", regenerated) and "not regenerated" not in regenerated, \
            f"{item}: no regenerated number ({regenerated!r})"
        assert "notebooks/" in cells[-1]
    assert "cpu profile" in text and "digits-LT" in text


def test_no_machine_paths(book):
    secrets = [str(site.REPO)]
    home = str(Path.home())
    if len(home) > 1:
        secrets.append(home)
    found = []
    for path in book["root"].rglob("*"):
        if path.suffix not in {".html", ".js", ".ipynb", ".txt", ".md", ".json"}:
            continue
        if "mathjax" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.relative_to(book['root'])}: {s}" for s in secrets if s in text]
    assert not found, "\n".join(found)


# --------------------------------------------------------------------------- headless Chromium

def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    if os.geteuid() != 0:
        pytest.skip("chromium is not installed and installing it needs root (apt-get)")
    if not shutil.which("apt-get"):
        pytest.skip("chromium is not installed and apt-get is not available to install it")
    lock = ["-o", f"DPkg::Lock::Timeout={os.environ.get('LMF_APT_LOCK_TIMEOUT', '600')}"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", *lock, "update", "-qq"],
                    ["apt-get", *lock, "install", "-y", "-qq", "--no-install-recommends",
                     "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            pytest.skip(f"could not install chromium: {done.stderr.strip()[-300:]}")
    return shutil.which("chromium")


class _Browser:
    """One headless Chromium page over the DevTools protocol (websocket-client)."""

    def __init__(self, binary: str, profile: Path):
        import websocket

        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--no-default-browser-check", "--allow-file-access-from-files",
             f"--user-data-dir={profile}", "--remote-debugging-port=0", "--window-size=1280,900",
             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                pytest.skip("headless chromium did not start")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30,
                                              suppress_origin=True)
        self.counter, self.events = 0, []
        for method in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.send(method)
        self.send("Emulation.setDeviceMetricsOverride",
                  width=1280, height=900, deviceScaleFactor=1, mobile=False)

    def send(self, method, **params):
        self.counter += 1
        ident = self.counter
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(e.get("method") == method for e in self.events):
                return
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(method)

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                           returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def open(self, url: str) -> list[str]:
        """Load ``url``; returns the console errors and exceptions it caused."""
        self.events = []
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        # MathJax typesets after the load event; wait until its queue is empty
        self.evaluate("""new Promise(done => {
            const start = Date.now();
            (function poll() {
              const hub = window.MathJax && window.MathJax.Hub;
              if (!hub || (hub.queue && hub.queue.pending === 0 && !hub.queue.running)
                  || Date.now() - start > 15000) { setTimeout(done, 300); return; }
              setTimeout(poll, 100);
            })();
        })""")
        errors = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                errors.append(" ".join(str(a.get("value", a.get("description")))
                                       for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                errors.append(f"{entry.get('text')} {entry.get('url', '')}")
        # MathJax 2 probes fonts it does not need (the TeX web fonts; jupyter-server-mathjax
        # ships STIX-Web only, which it then uses): not an error of the page
        return [e for e in errors if "mathjax/fonts/HTML-CSS/TeX/" not in e
                and "about:blank" not in e]

    def screenshot(self, path: Path):
        """The whole page (up to 6000 px tall) at 1280 px wide."""
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": 1280, "height": min(size["height"], 6000), "scale": 1}
        data = self.send("Page.captureScreenshot", format="png", clip=clip,
                         captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - closing what may not have opened
            pass
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


BROKEN_IMAGES = """Promise.all([...document.images].map(img => new Promise(done => {
    if (img.complete && img.naturalWidth > 0) return done(null);
    const probe = new Image();
    probe.onload = () => done(probe.naturalWidth > 0 ? null : img.src);
    probe.onerror = () => done(img.src);
    probe.src = img.src;
}))).then(found => found.filter(Boolean))"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = _chromium()
    session = _Browser(binary, tmp_path_factory.mktemp("chromium-profile"))
    yield session
    session.close()


def test_pages_render_in_chromium(book, browser, tmp_path):
    root = book["root"]
    pages = [book["index"]] + [root / "notebooks" / f"{nb.stem}.html"
                               for nb in site.notebook_pages().values()]
    pages += [root / f"{name}.html" for name, *_ in site.NOTES]
    problems = []
    for page in pages:
        name = page.relative_to(root).as_posix()
        errors = browser.open(page.as_uri())
        problems += [f"{name}: console error: {e}" for e in errors]
        problems += [f"{name}: broken image {src}" for src in browser.evaluate(BROKEN_IMAGES)]
        width = browser.evaluate("[document.body.scrollWidth, window.innerWidth]")
        if width[0] > width[1]:
            problems.append(f"{name}: the page overflows horizontally ({width[0]} > {width[1]})")
        if "04_" in name or page == book["index"]:
            shot = tmp_path / f"{page.stem}.png"
            browser.screenshot(shot)
            print(f"screenshot: {shot}")
        if "notebooks/" in name:
            rendered = browser.evaluate(
                "document.querySelectorAll('.MathJax, .MathJax_Display, mjx-container').length")
            if name.startswith("notebooks/02"):
                assert rendered > 0, "notebook 02's math was not typeset"
    assert (tmp_path / "index.png").exists() and (tmp_path / "04_per_class_analysis.png").exists()
    assert not problems, "\n".join(problems)
