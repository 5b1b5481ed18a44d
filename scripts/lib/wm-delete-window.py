#!/usr/bin/env python3
"""Asks the X11 windows of process PID to close the way a window manager does: a
WM_PROTOCOLS / WM_DELETE_WINDOW client message (the close button, Alt+F4). WebDriver's own
close destroys the window without that request, so the app's close guard never runs.

    wm-delete-window.py PID [--on-enter]
        exits 0 when at least one window was asked, 1 otherwise; with --on-enter it prints
        "ready" once connected and sends when a line arrives on stdin (no start-up delay)
"""
import sys

from Xlib import X, display, protocol


def windows(d, root):
    stack = [root]
    while stack:
        w = stack.pop()
        yield w
        try:
            stack.extend(w.query_tree().children)
        except Exception:
            pass


def main():
    pid = int(sys.argv[1])
    d = display.Display()
    net_pid = d.intern_atom("_NET_WM_PID")
    protocols = d.intern_atom("WM_PROTOCOLS")
    delete = d.intern_atom("WM_DELETE_WINDOW")
    on_enter = "--on-enter" in sys.argv[2:]
    if on_enter:
        # Python and Xlib are loaded and connected: what is left after the line is quick.
        print("ready", flush=True)
        sys.stdin.readline()
    targets = []
    for w in windows(d, d.screen().root):
        try:
            prop = w.get_full_property(net_pid, X.AnyPropertyType)
            wm_protocols = w.get_wm_protocols() or []
        except Exception:
            continue
        if prop and pid in prop.value and delete in wm_protocols:
            targets.append(w)
    print(" ".join(hex(w.id) for w in targets), file=sys.stderr, flush=True)
    asked = 0
    for w in targets:
        event = protocol.event.ClientMessage(
            window=w, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
        )
        w.send_event(event, event_mask=X.NoEventMask)
        asked += 1
    d.flush()
    d.close()
    return 0 if asked else 1


if __name__ == "__main__":
    sys.exit(main())
