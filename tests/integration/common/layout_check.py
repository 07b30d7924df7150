"""Layout check of a running site in headless Chromium (test helper).

Usage: python layout_check.py CHROMIUM CONFIG.json

Drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe:
commands on fd 3, replies on fd 4; no websocket library, no browser download)
and, for every page of CONFIG at every width, loads the page (with the session
cookie when the page is signed in), runs MEASURE in it and collects what it
finds; optional full-page screenshots for docs/gallery.md. Prints one line,
``QS-LAYOUT <json>``: ``[{"page": ..., "width": ..., "status": ..., "title":
..., "findings": [...]}]``.

CONFIG: {"base_url": "http://127.0.0.1:PORT", "widths": [375, 1280],
"cookie": {"name": "sessionid", "value": "..."} or null, "pages": [{"path":
"/teams/", "signed_in": true, "title": "Acme", "page_header": true,
"screenshot": "/abs/file.png" or null}]}.
"""

import base64
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time

# Runs in the page; EXPECT is the page's entry of CONFIG. Each finding is a
# sentence naming the element, so a failing test says what to fix.
MEASURE = r"""
(() => {
  const findings = [];
  // The device width asked for: a phone's layout viewport grows to fit
  // content that is too wide, so innerWidth would hide the overflow.
  const W = WIDTH;
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const name = (el) => {
    const text = (el.innerText || el.value || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return `<${el.tagName.toLowerCase()}${el.className && typeof el.className === "string" ? ` class="${el.className}"` : ""}>${text ? ` "${text}"` : ""}`;
  };
  // The theme's shell and component classes.
  if (!document.querySelector("header.site-header, .site-header")) findings.push("no site header (.site-header): the page is not in the theme's shell");
  if (!document.querySelector("link[rel=stylesheet][href*='css/style.css']")) findings.push("the theme's stylesheet (css/style.css) is not loaded");
  if (EXPECT.page_header && !document.querySelector("main .page-header h1")) findings.push("no page header (.page-header with an <h1>) in <main>");
  if (EXPECT.title && !document.title.includes(EXPECT.title)) findings.push(`the page title "${document.title}" does not name "${EXPECT.title}"`);
  // Emoji shown as pictures (not © or ™, which text fonts have).
  const emoji = (document.body.innerText.match(/\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F/gu) || []);
  if (emoji.length) findings.push(`emoji icons in the text (${emoji.slice(0, 5).join(" ")}): empty boxes without an emoji font`);
  // The navigation: every link on one line, one row on a wide screen.
  const links = [...document.querySelectorAll(".nav-links a")].filter(visible);
  for (const a of links) {
    if (a.getClientRects().length > 1) findings.push(`the nav link ${name(a)} wraps onto ${a.getClientRects().length} lines`);
  }
  const toggle = document.querySelector("#nav-toggle");
  const rows = new Set(links.map((a) => Math.round(a.getBoundingClientRect().top)));
  if (rows.size > 1 && !(toggle && toggle.checked)) findings.push(`the nav links wrap onto ${rows.size} rows at ${W}px`);
  const nav = document.querySelector(".site-header");
  if (nav && nav.getBoundingClientRect().height > 90) findings.push(`the header is ${Math.round(nav.getBoundingClientRect().height)}px tall at ${W}px (wrapped)`);
  // Nothing wider than the viewport, except inside a scrolling container.
  if (document.documentElement.scrollWidth > W + 1) findings.push(`the page is ${document.documentElement.scrollWidth}px wide in a ${W}px viewport`);
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  let overflowing = 0;
  for (const el of document.body.querySelectorAll("*")) {
    if (!visible(el) || clipped(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > W + 1 || r.left < -1) && !el.matches(".skip-link, .nav-toggle-input")) {
      if (overflowing++ < 5) findings.push(`${name(el)} overflows the ${W}px viewport (${Math.round(r.left)}..${Math.round(r.right)})`);
    }
  }
  // No button in the browser's default look: compare with a default button
  // in a shadow root, where the page's stylesheet does not reach.
  const host = document.createElement("div");
  const shadow = host.attachShadow({ mode: "open" });
  const refButton = document.createElement("button");
  const refSubmit = document.createElement("input");
  refSubmit.type = "submit";
  shadow.append(refButton, refSubmit);
  document.body.append(host);
  const props = ["backgroundColor", "borderTopLeftRadius", "paddingLeft", "fontFamily", "borderTopColor"];
  const look = (el) => { const s = getComputedStyle(el); return props.map((p) => s[p]).join("|"); };
  const defaults = { button: look(refButton), input: look(refSubmit) };
  for (const b of document.querySelectorAll("button, input[type=submit], input[type=button]")) {
    if (!visible(b)) continue;
    if (look(b) === defaults[b.tagName.toLowerCase()]) findings.push(`${name(b)} has the browser's default look (unstyled)`);
  }
  host.remove();
  // Buttons never touch: at least 4px between any two (a spacing collision
  // otherwise, e.g. two forms' buttons stacked without a gap).
  const boxes = [...document.querySelectorAll("main button, main .button, main .btn, main input[type=submit]")]
    .filter(visible).map((el) => [el, el.getBoundingClientRect()]);
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, ra] = boxes[i], [b, rb] = boxes[j];
      if (a.contains(b) || b.contains(a)) continue;
      const dx = Math.max(0, rb.left - ra.right, ra.left - rb.right);
      const dy = Math.max(0, rb.top - ra.bottom, ra.top - rb.bottom);
      if (Math.max(dx, dy) < 4) findings.push(`${name(a)} and ${name(b)} touch (${Math.round(Math.max(dx, dy))}px apart)`);
    }
  }
  return JSON.stringify({ title: document.title, findings });
})()
"""


class Browser:
    """Headless Chromium with the DevTools protocol on fds 3 and 4."""

    def __init__(self, chromium):
        self.profile = tempfile.TemporaryDirectory(prefix="qs-chromium-")
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # Above 10 first, so that placing them on 3 and 4 clobbers nothing.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_chrome_r, from_chrome_w)]
        for fd in (to_chrome_r, from_chrome_w):
            os.close(fd)

        def place():
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--no-first-run",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                f"--user-data-dir={self.profile.name}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=place,
            pass_fds=(3, 4),
        )
        for fd in high:
            os.close(fd)
        self.write = os.fdopen(to_chrome_w, "wb", buffering=0)
        self.read = os.fdopen(from_chrome_r, "rb", buffering=0)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def _message(self):
        while b"\0" not in self.buffer:
            chunk = self.read.read(65536)
            if not chunk:
                raise SystemExit("Chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.write.write(json.dumps(message).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise SystemExit(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method, session, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    del self.events[i]
                    return event
            self.events.append(self._message())
        raise SystemExit(f"no {method} within {timeout}s")

    def close(self):
        try:
            self.send("Browser.close")
        except SystemExit:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.profile.cleanup()


def check(config):
    browser = Browser(config["chromium"])
    results = []
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            browser.send(f"{domain}.enable", session=session)
        for page in config["pages"]:
            browser.send("Network.clearBrowserCookies", session=session)
            if page.get("signed_in") and config.get("cookie"):
                cookie = config["cookie"]
                browser.send(
                    "Network.setCookie",
                    {"name": cookie["name"], "value": cookie["value"], "url": config["base_url"]},
                    session=session,
                )
            for width in config["widths"]:
                browser.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
                    session=session,
                )
                browser.events.clear()
                browser.send("Page.navigate", {"url": config["base_url"] + page["path"]}, session=session)
                browser.wait_event("Page.loadEventFired", session)
                statuses = [
                    e["params"]["response"]["status"]
                    for e in browser.events
                    if e.get("method") == "Network.responseReceived"
                    and e["params"].get("type") == "Document"
                ]
                status = statuses[-1] if statuses else None
                expression = f"const EXPECT = {json.dumps(page)}, WIDTH = {width};\n{MEASURE}"
                value = browser.send(
                    "Runtime.evaluate",
                    {"expression": expression, "returnByValue": True},
                    session=session,
                )
                if "exceptionDetails" in value:
                    raise SystemExit(f"the measuring script failed: {value['exceptionDetails']}")
                seen = json.loads(value["result"]["value"])
                results.append({"page": page["path"], "width": width, "status": status, **seen})
                shot = page.get("screenshot")
                if shot and width == max(config["widths"]):
                    screenshot(browser, session, width, shot)
    finally:
        browser.close()
    return results


def screenshot(browser, session, width, path):
    """The whole page (up to 2400px tall) at `width`, as a PNG."""
    height = browser.send(
        "Runtime.evaluate",
        {"expression": "document.documentElement.scrollHeight", "returnByValue": True},
        session=session,
    )["result"]["value"]
    height = max(600, min(int(height), 2400))
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        session=session,
    )
    data = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    with open(path, "wb") as out:
        out.write(base64.b64decode(data))


def main():
    chromium, config_path = sys.argv[1], sys.argv[2]
    with open(config_path) as f:
        config = json.load(f)
    config["chromium"] = chromium
    print("QS-LAYOUT " + json.dumps(check(config)))


if __name__ == "__main__":
    main()
