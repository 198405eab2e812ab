"""The results table (Markdown) and JSON file."""

import json

from .phases import median_of

ROWS = [
    ("RSS idle (KiB)", ("idle_rss_kib",), "{:.0f}"),
    ("KiB per idle session @{a}", ("sessions_a", "kib_per_session"), "{:.1f}"),
    ("KiB per idle session @{b}", ("sessions_b", "kib_per_session"), "{:.1f}"),
    ("KiB per idle session @{large}", ("sessions_large", "kib_per_session"), "{:.1f}"),
    ("CPU ms per login (PLAIN, 4096 it.)", ("sessions_b", "cpu_ms_per_login"), "{:.2f}"),
    ("logins/s (offered {login_rate}/s)", ("sessions_b", "logins_per_s"), "{:.0f}"),
    ("login p99 (ms)", ("sessions_b", "login_p99_ms"), "{:.1f}"),
    ("sessions tsung lost @{b}", ("sessions_b", "lost_by_tsung"), "{:.0f}"),
    ("1:1 CPU µs per message @{chat_rate}/s", ("chat", "cpu_us_per_msg"), "{:.0f}"),
    ("1:1 latency p50 (ms)", ("chat", "latency_p50_ms"), "{:.2f}"),
    ("1:1 latency p99 (ms)", ("chat", "latency_p99_ms"), "{:.2f}"),
    ("1:1 delivered", ("chat", "delivered_ratio"), "{:.1%}"),
    ("MUC CPU µs per delivery ({muc_users} occ., {muc_rate} msg/s)", ("muc", "cpu_us_per_delivery"), "{:.1f}"),
    ("MUC latency p99 (ms)", ("muc", "latency_p99_ms"), "{:.2f}"),
    ("MUC latency p50 (ms)", ("muc", "latency_p50_ms"), "{:.2f}"),
    ("total server CPU (s)", ("total_cpu_s",), "{:.1f}"),
    ("tsung CPU % during logins", ("sessions_b", "tsung_cpu_pct"), "{:.0f}"),
    ("tsung CPU % during 1:1", ("chat", "tsung_cpu_pct"), "{:.0f}"),
    ("tsung CPU % during MUC", ("muc", "tsung_cpu_pct"), "{:.0f}"),
]


def summarise(results):
    """Per server: the median over rounds of every figure in ROWS (None where unmeasured)."""
    summary = {}
    for name, rounds in results["rounds"].items():
        summary[name] = {}
        for label, path, _ in ROWS:
            summary[name][".".join(path)] = median_of(rounds, *path)
        if any(r.get("muc") == "n/a" for r in rounds):
            summary[name]["muc.cpu_us_per_delivery"] = "n/a"
            summary[name]["muc.latency_p99_ms"] = "n/a"
            summary[name]["muc.latency_p50_ms"] = "n/a"
    return summary


def table(results, summary):
    cfg = results["config"]
    names = list(summary)
    lines = ["| figure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    fmt_args = {"a": cfg["sessions"][0], "b": cfg["sessions"][-1], **cfg}
    for label, path, fmt in ROWS:
        if path[0] == "sessions_large" and not cfg.get("large"):
            continue
        cells = []
        for name in names:
            v = summary[name][".".join(path)]
            cells.append(fmt.format(v) if isinstance(v, (int, float)) else (v or "—"))
        lines.append(f"| {label.format(**fmt_args)} | " + " | ".join(cells) + " |")
    extras = results.get("extras", {})
    for key, value in extras.items():
        if isinstance(value, dict) and "median" in value:
            shown = (f"median {value['median']} (min {value['min']}, max {value['max']},"
                     f" {value['runs']} runs)")
        else:
            shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |" + " |" * (len(names) - 1))
    return "\n".join(lines)


def write_json(path, results, summary):
    with open(path, "w", encoding="utf-8") as f:
        json.dump({**results, "summary": summary}, f, indent=2, sort_keys=True)
