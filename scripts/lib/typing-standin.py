#!/usr/bin/env python3
"""A stand-in for the app when checking the typing probe (scripts/lib/typing-latency.py):
one X window, with _NET_WM_PID set, that fills a small rectangle DELAY_MS after each key
press. Its drawing time is known, so a probe that reads much more than DELAY_MS plus the X
server's own time, or one probe later than another, is measuring itself.

    typing-standin.py [DELAY_MS]
"""
import os
import sys
import time

from Xlib import X, Xatom, display


def main():
    delay = float(sys.argv[1]) / 1000 if len(sys.argv) > 1 else 0.008
    d = display.Display()
    s = d.screen()
    w = s.root.create_window(0, 0, 600, 400, 0, s.root_depth, X.InputOutput, X.CopyFromParent,
                             background_pixel=s.white_pixel,
                             event_mask=X.KeyPressMask | X.ExposureMask)
    w.change_property(d.intern_atom("_NET_WM_PID"), Xatom.CARDINAL, 32, [os.getpid()])
    w.map()
    d.sync()
    gc = w.create_gc(foreground=s.black_pixel)
    drawn = 0
    while True:
        e = d.next_event()
        if e.type == X.KeyPress:
            time.sleep(delay)
            w.fill_rectangle(gc, 10 + (drawn * 7) % 560, 50 + 30 * ((drawn // 80) % 10), 6, 20)
            drawn += 1
            d.flush()


if __name__ == "__main__":
    main()
