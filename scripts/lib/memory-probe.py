#!/usr/bin/env python3
"""What each page leaves in the web process (issue 18), in any order the command line gives.

Drives the release app over WebDriver (tauri-driver on :4460), signs in as the demo admin, and
after each step waits 2 s, has WebKit release memory (the page's own idle release) and prints
the web process's anonymous private memory ("web heap", as the bench prints it) and the
page's element counts: all, and those in Element Plus's hidden popper layers. Steps are page
names (the `nav-<page>` test ids) or `genN` (N generations on the writing page).

  cargo build --release -p inkstone-app --features demo
  INKSTONE_DEMO_TOKENS_PER_SECOND=50 xvfb-run -a -s "-screen 0 1400x900x24" \\
    dbus-run-session -- python3 scripts/lib/memory-probe.py history writing transactions writing

A diagnostic, not a test: one run reads within ~0.6 MiB of the next.
"""
import json, os, re, subprocess, sys, tempfile, time, urllib.request

DRIVER = "http://127.0.0.1:4460"
APP = os.environ.get("INKSTONE_APP", os.path.join(os.path.dirname(__file__), "../../target/release/inkstone-app"))


def req(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(DRIVER + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(r, timeout=120) as f:
        return json.loads(f.read())["value"]


def web_heap_mib():
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            # comm is cut at 15 characters: "WebKitWebProces".
            if not open(f"/proc/{pid}/comm").read().startswith("WebKitWebProc"):
                continue
            name = None
            for line in open(f"/proc/{pid}/smaps"):
                m = re.match(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$", line)
                if m:
                    name = m.group(1).strip()
                elif line.startswith(("Private_Clean", "Private_Dirty")) and (name in ("", "[heap]", "[stack]") or name.startswith("[anon")):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def main():
    data = tempfile.mkdtemp()
    driver = subprocess.Popen(["tauri-driver", "--port", "4460", "--native-port", "4461"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    sid = None
    try:
        caps = {"capabilities": {"alwaysMatch": {"tauri:options": {"application": APP, "args": ["--demo", "--data-dir", data]}}}}
        sid = req("POST", "/session", caps)["sessionId"]

        def run(script):
            return req("POST", f"/session/{sid}/execute/sync", {"script": script, "args": []})

        def find(css):
            for _ in range(600):
                try:
                    found = req("POST", f"/session/{sid}/element", {"using": "css selector", "value": css})
                    return list(found.values())[0]
                except Exception:
                    time.sleep(0.1)
            raise SystemExit(f"not found: {css}")

        def click(css):
            req("POST", f"/session/{sid}/element/{find(css)}/click", {})

        def type_into(css, text):
            req("POST", f"/session/{sid}/element/{find(css)}/value", {"text": text})

        def settle(label):
            time.sleep(2)
            req("POST", f"/session/{sid}/execute/async", {"script": "const done = arguments[arguments.length - 1]; window.__inkstoneReleaseMemory && window.__inkstoneReleaseMemory(); setTimeout(() => done(1), 1500)", "args": []})
            time.sleep(1)
            counts = run("return [document.getElementsByTagName('*').length, document.querySelectorAll('[id^=el-popper-container] *').length]")
            print(f"{label:24s} web heap {web_heap_mib():6.1f} MiB   elements {counts[0]:5d}, in hidden popper layers {counts[1]:5d}", flush=True)

        type_into("[data-testid=login-username]", "admin")
        type_into("[data-testid=login-password]", "admin123456")
        click("[data-testid=login-submit]")
        click("[data-testid=nav-writing]")
        find("[data-testid=prompt]")
        time.sleep(30)
        settle("writing, 30 s idle")
        for step in sys.argv[1:]:
            if step.startswith("gen"):
                type_into("[data-testid=prompt]", "写一篇关于春天的散文")
                for _ in range(int(step[3:] or 1)):
                    click("[data-testid=generate]")
                    time.sleep(0.5)
                    for _ in range(600):
                        if run("return !document.querySelector('[data-testid=stop]')"):
                            break
                        time.sleep(0.1)
            else:
                click(f"[data-testid=nav-{step}]")
            settle(step)
    finally:
        if sid:
            try:
                req("DELETE", f"/session/{sid}")
            except Exception:
                pass
        driver.terminate()


if __name__ == "__main__":
    main()
