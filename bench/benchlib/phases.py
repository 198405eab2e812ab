"""The measured phases of one round against one running server; each returns plain figures."""

import os
import statistics
import time

from . import scenario, tsungrun


def settle(server, quiet_ms=30, period=1.0, timeout=20):
    """Waits (bounded) until the server burns < quiet_ms of CPU in `period` s; returns RSS KiB."""
    deadline = time.monotonic() + timeout
    last = server.cpu()
    while time.monotonic() < deadline:
        time.sleep(period)  # measuring an idle interval, not synchronising with anything
        now = server.cpu()
        if (now - last) * 1000 < quiet_ms:
            break
        last = now
    return server.rss()


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def sessions(server, cfg, n, idle_rss, workdir):
    """n users log in at cfg.login_rate/s and idle: KiB/session, CPU ms/login, logins/s."""
    hold = cfg.hold_margin  # after the barrier: everyone is in and idle for this long
    xml = scenario.sessions(server.port, n, cfg.login_rate, hold)
    samples, stats, _ = tsungrun.run(xml, server, workdir, f"sessions{n}",
                                     timeout=n / cfg.login_rate * 1.5 + n / 40 + hold + 40)
    # Sessions that tsung lost (its STARTTLS handling races under load) are not counted.
    top = min(tsungrun.peak(samples), n)
    if top < 0.85 * n:
        return {"error": f"only {top} of {n} sessions were open at once"}
    window = tsungrun.full_window(samples, top)
    first = next(i for i, s in enumerate(samples) if s[3] > 0)
    full_at, last_full = window
    logins = min(samples[last_full][3], n)  # sessions open when memory is read
    # Memory once every session is up and idle: the last sample before anyone leaves.
    rss_full = samples[last_full][4]
    ramp = samples[full_at][0] - samples[first][0]
    login_cpu = samples[full_at][1] - samples[max(0, first - 1)][1]
    tsung_cpu = samples[full_at][2] - samples[max(0, first - 1)][2]
    return {
        "sessions": logins,
        "lost_by_tsung": n - logins,
        "rss_kib": rss_full,
        "kib_per_session": (rss_full - idle_rss) / logins,
        "cpu_ms_per_login": login_cpu * 1000 / logins,
        "logins_per_s": logins / ramp if ramp > 0 else None,
        "login_p50_ms": percentile(stats["tr_login"], 50),
        "login_p99_ms": percentile(stats["tr_login"], 99),
        "tsung_cpu_pct": 100 * tsung_cpu / ramp if ramp > 0 else None,
    }


# The share of tsung's writes, at either end of the phase, that the steady window leaves out.
RAMP_SHARE = 0.1


def _steady(samples, n):
    """CPU deltas over the part of the run where all n users were sending at the full rate.

    Inside the stretch where all n connections were open, that is where tsung wrote the middle
    80 % of its bytes (nearly all of them stanzas sent). Timing it from the connections alone
    would count idle time: tsung's login barrier waits up to 30 s for users it lost, and a
    server may keep connections open after the users have left (ejabberd does both), which
    made such a server's CPU per message look several times cheaper than it was.
    """
    window = tsungrun.full_window(samples, n)
    if window is None:
        return None
    inside = samples[window[0]:window[1] + 1]
    first, last = inside[0][5], inside[-1][5]
    if last <= first:
        return None
    low = first + RAMP_SHARE * (last - first)
    high = last - RAMP_SHARE * (last - first)
    t0 = next(s[0] for s in inside if s[5] >= low)
    t1 = next(s[0] for s in reversed(inside) if s[5] <= high)
    return tsungrun.delta(samples, t0, t1)


def chat(server, cfg, workdir):
    """1:1 messages at a fixed offered rate: CPU µs per message, latency p50/p99."""
    xml, sent = scenario.chat(server.port, cfg.chat_users, cfg.chat_arrival, cfg.chat_rate,
                              cfg.chat_seconds)
    samples, stats, _ = tsungrun.run(xml, server, workdir, "chat",
                                     timeout=cfg.chat_users / 40 + cfg.chat_seconds * 2 + 60)
    top = min(tsungrun.peak(samples), cfg.chat_users)  # a stray extra connection is no user
    if top < 0.85 * cfg.chat_users:
        return {"error": f"only {top} of {cfg.chat_users} users were online at once"}
    d = _steady(samples, top)
    rate = cfg.chat_rate * top / cfg.chat_users  # users tsung lost send nothing
    latency = stats.get("xmpp_msg_latency", [])
    if d is None or d[2] <= 0:
        return {"error": "the users were never all online at once"}
    cpu, tsung_cpu, wall = d
    return {
        "offered_msgs_per_s": rate,
        "steady_window_s": wall,
        # tsung stamps one latency per socket read: a lower bound when reads coalesce.
        "delivered_ratio": len(latency) / sent,
        "cpu_us_per_msg": cpu * 1e6 / (rate * wall),
        "latency_p50_ms": percentile(latency, 50),
        "latency_p99_ms": percentile(latency, 99),
        "tsung_cpu_pct": 100 * tsung_cpu / wall,
        "server_cpu_pct": 100 * cpu / wall,
    }


MAX_SAMPLES_PER_MESSAGE_IF_REFUSED = 2


def muc(server, cfg, workdir):
    """One room, cfg.muc_users occupants, a fixed total message rate: CPU µs per delivery."""
    xml, sent = scenario.muc(server.port, cfg.muc_users, cfg.muc_arrival, cfg.muc_rate,
                             cfg.muc_seconds)
    samples, stats, _ = tsungrun.run(xml, server, workdir, "muc",
                                     timeout=cfg.muc_users / 40 + cfg.muc_seconds + 60)
    top = min(tsungrun.peak(samples), cfg.muc_users)
    if top < 0.85 * cfg.muc_users:
        return {"error": f"only {top} of {cfg.muc_users} occupants were online at once"}
    d = _steady(samples, top)
    latency = stats.get("xmpp_msg_latency", [])
    if d is None or d[2] <= 0:
        return {"error": "the occupants were never all online at once"}
    # A room that refused its occupants leaves at most one sample per message sent (the
    # sender's bounce). A working room gives far more, though fewer than deliveries: reads
    # coalesce, the more so the slower the server (Prosody here: 5-70 % of deliveries).
    if len(latency) <= MAX_SAMPLES_PER_MESSAGE_IF_REFUSED * sent:
        return {"error": f"only {len(latency)} latency samples for {sent} messages to {top} "
                         "occupants: the room did not deliver (locked, or joins refused?)"}
    cpu, tsung_cpu, wall = d
    rate = cfg.muc_rate * top / cfg.muc_users  # occupants tsung lost send nothing
    deliveries_per_s = rate * top  # every occupant gets each message, the sender its echo
    return {
        "occupants": top,
        "offered_msgs_per_s": rate,
        "steady_window_s": wall,
        # One sample per socket read (reads coalesce under fan-out): no delivery ratio here.
        "latency_samples": len(latency),
        "cpu_us_per_delivery": cpu * 1e6 / (deliveries_per_s * wall),
        "latency_p50_ms": percentile(latency, 50),
        "latency_p99_ms": percentile(latency, 99),
        "tsung_cpu_pct": 100 * tsung_cpu / wall,
        "server_cpu_pct": 100 * cpu / wall,
    }


def median_of(rounds, *path):
    """Median of a figure over rounds, skipping rounds where it is missing."""
    values = []
    for r in rounds:
        v = r
        for key in path:
            v = v.get(key) if isinstance(v, dict) else None
        if isinstance(v, (int, float)):
            values.append(v)
    return statistics.median(values) if values else None


def workdir_for(base, server, rnd):
    return os.path.join(base, "tsung", server.name, f"round{rnd}")
