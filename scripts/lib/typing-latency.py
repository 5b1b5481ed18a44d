#!/usr/bin/env python3
"""Input-to-pixels while typing, measured outside the app, as a keyboard and a screen see it.

    typing-latency.py FBFILE PID X Y W H KEYS [INTERVAL_MS] [--whole]

Presses KEYS keys (letters, a space every tenth) through the X server's XTEST extension, the
way a keyboard's keys arrive, into the window of process PID, INTERVAL_MS apart (default 60).
After each press it watches the screen's pixels in the rectangle X, Y, W, H (page coordinates
of that window: CSS pixels at device pixel ratio 1) straight from Xvfb's framebuffer file FBFILE
(`Xvfb -fbdir DIR` keeps the screen in DIR/Xvfb_screen0, in XWD format) until they change:
the time from the key to the first changed pixel is that key's input-to-pixels latency.

The probe keeps out of the way of what it measures. On a 2-core machine a probe that copies
the whole rectangle (~0.65 ms for an editor) every 0.2 ms holds most of a core exactly while
the X server, the app and its web process handle the key; a screen costs them nothing. So by
default it waits for the X server's DAMAGE events on the window (sent as the server draws,
i.e. as the framebuffer changes): each event over the rectangle has its rows compared with
their copy from before the key, and the first that differ time the key. A slow poll of the
rows the previous key changed (every SAFETY_POLL_S) backs the events up; keys it finds first
are counted (`by_poll`, timed up to SAFETY_POLL_S late, never early). The band polled is the
rows the previous key changed, BAND_MARGIN rows above and below (the line typed and the next
one, for a wrap); the whole rectangle for the first key.

`--whole` polls the whole rectangle every POLL_S instead, as this probe did until 2026-11-30.

Prints one JSON object: {"ms": [...], "mode": m, "by_poll": n, "probe_cpu_ms": c}, with null
for a key whose pixels never changed in 500 ms; c is the probe's own CPU time per key while
it waited for pixels (what it took from the machine during the measured part).

Nothing inside the app is timed: no JavaScript clock, no frame callback. What is measured is
the whole path a key takes (X server, GTK, WebKit's UI and web processes, the editor, painting,
compositing, and the window's redraw) up to pixels in the framebuffer.
"""
import json
import mmap
import select
import struct
import sys
import time

from Xlib import X, XK, display
from Xlib.ext import damage, xtest

# Rows above and below the previous key's change: one line of the editor (~33 px) and some.
BAND_MARGIN = 48
# Time between two reads of the screen while waiting: the figures' resolution.
POLL_S = 0.0002
# The DAMAGE mode's backup poll of the band.
SAFETY_POLL_S = 0.004
GIVE_UP_S = 0.5


def window_of(d, pid):
    """The top-level mapped window of `pid` with the largest area."""
    net_pid = d.intern_atom("_NET_WM_PID")
    best = None
    for w in d.screen().root.query_tree().children:
        try:
            prop = w.get_full_property(net_pid, X.AnyPropertyType)
            attrs = w.get_attributes()
            geo = w.get_geometry()
        except Exception:
            continue
        if not prop or prop.value[0] != pid or attrs.map_state != X.IsViewable:
            continue
        if best is None or geo.width * geo.height > best[1]:
            best = (w, geo.width * geo.height)
    return best[0] if best else None


class Screen:
    """Rows of the framebuffer file, read in place (no copy of the whole screen)."""

    def __init__(self, path):
        self.file = open(path, "rb")
        self.mm = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)
        fields = struct.unpack(">25I", self.mm[:100])
        header_size, bits_per_pixel, bytes_per_line, ncolors = (
            fields[0], fields[11], fields[12], fields[19])
        self.width, self.height = fields[4], fields[5]
        if bits_per_pixel not in (24, 32):
            raise SystemExit(f"typing-latency: {bits_per_pixel} bits per pixel not handled")
        self.bpp = bits_per_pixel // 8
        self.stride = bytes_per_line
        self.pixels = header_size + ncolors * 12

    def region(self, x, y, w, h):
        x, y = max(0, x), max(0, y)
        w, h = min(w, self.width - x), min(h, self.height - y)
        start = self.pixels + y * self.stride + x * self.bpp
        return [(start + r * self.stride, start + r * self.stride + w * self.bpp) for r in range(h)]

    def rows(self, spans):
        mm = self.mm
        return [mm[a:b] for a, b in spans]

    def read(self, spans):
        mm = self.mm
        return b"".join(mm[a:b] for a, b in spans)


def band_of(previous, current, count):
    """Row indices [lo, hi) around the rows that differ between two copies of the rectangle,
    or None when none differ (nothing to go by: the whole rectangle is polled)."""
    if previous is None:
        return None
    changed = [i for i, (a, b) in enumerate(zip(previous, current)) if a != b]
    if not changed:
        return None
    return max(0, changed[0] - BAND_MARGIN), min(count, changed[-1] + 1 + BAND_MARGIN)


def wait_for_change(screen, spans, before, t0, until):
    """Seconds from t0 to the first read of `spans` that differs from `before`, or None once
    `until` seconds have passed since t0."""
    while True:
        same = screen.read(spans) == before
        now = time.perf_counter()
        if not same:
            return now - t0
        if now - t0 > until:
            return None
        time.sleep(POLL_S)


class Damage:
    """The X server's DAMAGE events for one window: where it drew, as it drew."""

    def __init__(self, d, win):
        self.d = d
        if not d.has_extension("DAMAGE"):
            raise SystemExit("typing-latency: the X server has no DAMAGE extension")
        d.damage_query_version()
        self.code = d.query_extension("DAMAGE").first_event + damage.DamageNotifyCode
        win.damage_create(damage.DamageReportRawRectangles)
        d.sync()

    def drain(self):
        while self.d.pending_events():
            self.d.next_event()

    def areas(self, timeout):
        """Rectangles drawn (window coordinates) within `timeout` seconds; [] if none."""
        if not self.d.pending_events():
            ready, _, _ = select.select([self.d.fileno()], [], [], max(0.0, timeout))
            if not ready:
                return []
        out = []
        while self.d.pending_events():
            e = self.d.next_event()
            if e.type == self.code:
                a = e.area
                out.append((a.x, a.y, a.width, a.height))
        return out


def wait_for_damage(screen, dmg, rect, spans, before_rows, band, band_before, t0):
    """(seconds from t0 to the first drawing over `rect` that changed its pixels, found by
    the backup poll?) or (None, False) after GIVE_UP_S. The backup poll reads rows
    `band` = (lo, hi), which held `band_before` before the key."""
    x, y, w, h = rect
    lo, hi = band
    next_poll = t0 + SAFETY_POLL_S
    while True:
        now = time.perf_counter()
        if now - t0 > GIVE_UP_S:
            return None, False
        for ax, ay, aw, ah in dmg.areas(min(next_poll - now, t0 + GIVE_UP_S - now)):
            if ax >= x + w or ax + aw <= x or ay >= y + h or ay + ah <= y:
                continue
            seen = time.perf_counter()
            r0, r1 = max(0, ay - y), min(h, ay + ah - y)
            if any(screen.mm[a:b] != before_rows[r] for r, (a, b) in
                   enumerate(spans[r0:r1], start=r0)):
                return seen - t0, False
        if time.perf_counter() >= next_poll:
            if screen.read(spans[lo:hi]) != band_before:
                return time.perf_counter() - t0, True
            next_poll += SAFETY_POLL_S


def main():
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    mode = "whole" if "--whole" in flags else "damage"
    fbfile, pid = args[0], int(args[1])
    x, y, w, h, keys = (int(v) for v in args[2:7])
    interval = float(args[7]) / 1000 if len(args) > 7 else 0.06
    d = display.Display()
    win = window_of(d, pid)
    if win is None:
        raise SystemExit(f"typing-latency: no window of process {pid}")
    origin = win.translate_coords(d.screen().root, 0, 0)
    ox, oy = -origin.x, -origin.y
    screen = Screen(fbfile)
    spans = screen.region(ox + x, oy + y, w, h)
    dmg = Damage(d, win) if mode == "damage" else None
    # The keys go where a keyboard's would: to the focused window, with the pointer over it.
    xtest.fake_input(d, X.MotionNotify, x=ox + x + w // 2, y=oy + y + h // 2)
    win.set_input_focus(X.RevertToParent, X.CurrentTime)
    d.sync()
    codes = {k: d.keysym_to_keycode(XK.string_to_keysym(k)) for k in ("a", "space")}
    out = []
    by_poll = 0
    probe_cpu = 0.0
    previous = None
    for i in range(keys):
        time.sleep(interval)
        if dmg is not None:
            # Drawing reported from here on may be this key's; what came before is in
            # `before_rows`.
            dmg.drain()
        before_rows = screen.rows(spans)
        # What each mode compares against, joined before the key (not timed): the whole
        # rectangle for `--whole`, the backup poll's band for DAMAGE.
        if dmg is None:
            before = b"".join(before_rows)
        else:
            band = band_of(previous, before_rows, len(spans)) or (0, len(spans))
            before = b"".join(before_rows[band[0]:band[1]])
        previous = before_rows
        code = codes["space" if i % 10 == 9 else "a"]
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        xtest.fake_input(d, X.KeyPress, code)
        xtest.fake_input(d, X.KeyRelease, code)
        d.flush()
        if dmg is not None:
            changed, polled = wait_for_damage(
                screen, dmg, (x, y, w, h), spans, before_rows, band, before, t0)
            by_poll += polled
        else:
            changed = wait_for_change(screen, spans, before, t0, GIVE_UP_S)
        probe_cpu += time.process_time() - cpu0
        out.append(None if changed is None else changed * 1000)
    print(json.dumps({
        "ms": out,
        "mode": mode,
        "by_poll": by_poll,
        "probe_cpu_ms": probe_cpu * 1000 / max(1, keys),
    }))


if __name__ == "__main__":
    main()
