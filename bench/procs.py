"""Helpers the benchmarks share: numbers from /proc, and stopping a process
they started."""
import subprocess


def proc_number(path, key):
    """The first number after `key` in the /proc file `path` (0 when the
    process is gone or the line is missing)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid):
    return proc_number(f"/proc/{pid}/smaps_rollup", "Pss:")


def rss_kb(pid):
    return proc_number(f"/proc/{pid}/status", "VmRSS:")


def voluntary_switches(pid):
    return proc_number(f"/proc/{pid}/status", "voluntary_ctxt_switches:")


def stop(p, sig, timeout):
    """Send `sig` to a process this benchmark started; KILL it after `timeout` s."""
    p.send_signal(sig)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
