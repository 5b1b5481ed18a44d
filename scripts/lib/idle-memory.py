#!/usr/bin/env python3
"""Where a running app's idle memory is, and what paging out its mapped files would buy
(README, "Thirteenth pass"). An experiment only: nothing in the app does this.

    python3 scripts/lib/idle-memory.py PID by-file          PSS per mapped file, per process
    python3 scripts/lib/idle-memory.py PID [libs|files]     page out, then PSS over 30 s

PID is the app; its descendants (WebKitWebProcess, WebKitNetworkProcess) are read too.
`by-file` sums /proc/PID/smaps per file (PSS, private in brackets). Otherwise each process's
file-backed mappings are paged out (`process_madvise(MADV_PAGEOUT)`, Linux >= 5.10, root or
ptrace rights): `libs` (default) the shared libraries and the app's binary, `files` every
mapped file; PSS is read before, right after, 10 s and 30 s later. The kernel skips pages
another process maps too, and without swap it cannot page out anonymous memory (heaps), so
this is the most such a lever could take off.
"""
import ctypes
import os
import sys
import time

SYS_PIDFD_OPEN, SYS_PROCESS_MADVISE = 434, 440  # x86_64 and aarch64 alike
MADV_PAGEOUT = 21
libc = ctypes.CDLL(None, use_errno=True)


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def pss_mib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return found


def tree(pid):
    out = [pid]
    for child in children(pid):
        out += tree(child)
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def page_out(pid, every_file):
    fd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if fd < 0:
        sys.exit(f"pidfd_open({pid}): errno {ctypes.get_errno()}")
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6 or not parts[5].startswith("/"):
                    continue
                path = parts[5]
                if not every_file and ".so" not in path and "inkstone" not in path:
                    continue
                start, end = (int(x, 16) for x in parts[0].split("-"))
                span = IoVec(start, end - start)
                if libc.syscall(SYS_PROCESS_MADVISE, fd, ctypes.byref(span), 1, MADV_PAGEOUT, 0) < 0:
                    sys.exit(f"process_madvise({pid}, {path}): errno {ctypes.get_errno()}")
    finally:
        os.close(fd)


def by_file(pid, top=8):
    pss, private, current = {}, {}, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if parts and not parts[0].endswith(":"):
                current = parts[5] if len(parts) > 5 else "[anon]"
            elif parts[0] == "Pss:":
                pss[current] = pss.get(current, 0) + int(parts[1])
            elif parts[0] in ("Private_Clean:", "Private_Dirty:"):
                private[current] = private.get(current, 0) + int(parts[1])
    print(f"{comm(pid)}: PSS {sum(pss.values()) / 1024:.1f} MiB")
    for name, kib in sorted(pss.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {kib / 1024:6.1f} ({private.get(name, 0) / 1024:5.1f}) {name}")


def main():
    if len(sys.argv) < 2 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    root = int(sys.argv[1])
    mode = sys.argv[2] if len(sys.argv) > 2 else "libs"
    pids = tree(root)
    if mode == "by-file":
        for pid in pids:
            by_file(pid)
        return
    every_file = mode == "files"

    def show(when):
        figures = {pid: pss_mib(pid) for pid in pids}
        parts = ", ".join(f"{comm(p)} {v:.1f}" for p, v in figures.items() if v)
        print(f"{when}: PSS {sum(figures.values()):.1f} MiB ({parts})")

    show("before")
    for pid in pids:
        page_out(pid, every_file)
    show("right after")
    time.sleep(10)
    show("10 s after")
    time.sleep(20)
    show("30 s after")


if __name__ == "__main__":
    main()
