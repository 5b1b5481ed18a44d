#!/usr/bin/env python3
"""Input-to-pixels while typing, measured outside the app, as a keyboard and a screen see it.

    typing-latency.py FBFILE PID X Y W H KEYS [INTERVAL_MS]

Presses KEYS keys (letters, a space every tenth) through the X server's XTEST extension, the
way a keyboard's keys arrive, into the window of process PID, INTERVAL_MS apart (default 60).
After each press it polls the screen's pixels in the rectangle X, Y, W, H (page coordinates of
that window: CSS pixels at device pixel ratio 1) straight from Xvfb's framebuffer file FBFILE
(`Xvfb -fbdir DIR` keeps the screen in DIR/Xvfb_screen0, in XWD format) until they change:
the time from the key to the first changed pixel is that key's input-to-pixels latency.
Prints one JSON object: {"ms": [...]} with null for a key whose pixels never changed in 500 ms.

Nothing inside the app is timed: no JavaScript clock, no frame callback. What is measured is
the whole path a key takes (X server, GTK, WebKit's UI and web processes, the editor, painting,
compositing, and the window's redraw) up to pixels in the framebuffer.
"""
import json
import mmap
import struct
import sys
import time

from Xlib import X, XK, display
from Xlib.ext import xtest


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

    def read(self, rows):
        mm = self.mm
        return b"".join(mm[a:b] for a, b in rows)


def main():
    fbfile, pid = sys.argv[1], int(sys.argv[2])
    x, y, w, h, keys = (int(v) for v in sys.argv[3:8])
    interval = float(sys.argv[8]) / 1000 if len(sys.argv) > 8 else 0.06
    d = display.Display()
    win = window_of(d, pid)
    if win is None:
        raise SystemExit(f"typing-latency: no window of process {pid}")
    origin = win.translate_coords(d.screen().root, 0, 0)
    ox, oy = -origin.x, -origin.y
    screen = Screen(fbfile)
    rows = screen.region(ox + x, oy + y, w, h)
    # The keys go where a keyboard's would: to the focused window, with the pointer over it.
    xtest.fake_input(d, X.MotionNotify, x=ox + x + w // 2, y=oy + y + h // 2)
    win.set_input_focus(X.RevertToParent, X.CurrentTime)
    d.sync()
    codes = {k: d.keysym_to_keycode(XK.string_to_keysym(k)) for k in ("a", "space")}
    out = []
    for i in range(keys):
        time.sleep(interval)
        before = screen.read(rows)
        code = codes["space" if i % 10 == 9 else "a"]
        t0 = time.perf_counter()
        xtest.fake_input(d, X.KeyPress, code)
        xtest.fake_input(d, X.KeyRelease, code)
        d.flush()
        changed = None
        while True:
            same = screen.read(rows) == before
            now = time.perf_counter()
            if not same:
                changed = (now - t0) * 1000
                break
            if now - t0 > 0.5:
                break
            time.sleep(0.0002)
        out.append(changed)
    print(json.dumps({"ms": out}))


if __name__ == "__main__":
    main()
