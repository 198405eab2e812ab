"""Server CPU and memory from /proc (proc(5)): utime+stime (+ reaped children) and VmRSS.

CPU seconds of the server process are steadier than wall time on a shared machine, so every
figure the harness reports is derived from these readings.
"""

import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        raw = f.read()
    # The command name may hold spaces and parentheses: split after the last ')'.
    return raw[raw.rindex(")") + 2:].split()


def children(pid):
    """Direct children of pid (from /proc/PID/task/*/children)."""
    kids = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                kids.extend(int(k) for k in f.read().split())
    except (FileNotFoundError, ProcessLookupError):
        pass
    return kids


def tree(pid):
    """pid and all its descendants (bounded by the process table size)."""
    out, todo = [], [pid]
    while todo and len(out) < 10000:
        p = todo.pop()
        out.append(p)
        todo.extend(children(p))
    return out


def cpu_seconds(pid):
    """utime+stime of pid and of its live descendants, plus cutime+cstime of reaped ones."""
    total = 0
    for p in tree(pid):
        try:
            f = _stat_fields(p)
        except (FileNotFoundError, ProcessLookupError):
            continue
        # Fields 14-17 of stat(5): utime stime cutime cstime; index 0 here is field 3.
        total += int(f[11]) + int(f[12])
        if p == pid:
            total += int(f[13]) + int(f[14])
    return total / CLK_TCK


def _summed(pid, name, key):
    """The number after `key` in /proc/P/`name`, summed over pid and its live descendants."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/{name}", encoding="ascii") as f:
                for line in f:
                    if line.startswith(key):
                        total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def written_bytes(pid):
    """Bytes pid and its live descendants passed to write(2) and kin (`wchar` of proc(5)'s
    /proc/PID/io): for tsung, mostly the stanzas it sends."""
    return _summed(pid, "io", "wchar:")


def rss_kib(pid):
    """Sum of VmRSS over pid and its descendants, in KiB."""
    return _summed(pid, "status", "VmRSS:")


def find_descendant(pid, names):
    """First descendant of pid (or pid itself) whose comm is in names."""
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/comm", encoding="ascii") as f:
                if f.read().strip() in names:
                    return p
        except (FileNotFoundError, ProcessLookupError):
            continue
    return None


def established(port):
    """Number of ESTABLISHED TCP connections whose local port is `port` (server side)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] == "01" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        count += 1
        except FileNotFoundError:
            continue
    return count
