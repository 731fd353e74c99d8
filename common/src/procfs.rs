//! Facts about other processes from `/proc`, parsed without panics.

/// Field 22 of a `/proc/PID/stat` line: the process's start time in clock
/// ticks since boot. Together with the pid it names one process for the
/// life of the boot: a recycled pid has a later start time, and setting the
/// wall clock (NTP) does not change it.
pub fn start_time_from_stat(stat: &str) -> Option<u64> {
    // comm (field 2) may hold spaces and ')': the fields resume after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    // after it: field 3 (state) is the first, so field 22 is the 20th
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

/// The start time of `pid`, or `None` when it does not exist (or is unreadable).
pub fn start_time(pid: u32) -> Option<u64> {
    if pid == 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    start_time_from_stat(&stat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_after_a_hostile_comm() {
        let line =
            "4242 (a) b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 100";
        assert_eq!(start_time_from_stat(line), Some(98765));
        assert_eq!(start_time_from_stat("4242 (x) S 1"), None);
        assert_eq!(start_time_from_stat("no paren"), None);
        assert_eq!(start_time_from_stat(""), None);
    }

    #[test]
    fn our_own_start_time_is_stable() {
        let me = std::process::id();
        let t = start_time(me).expect("our own /proc entry");
        assert_eq!(start_time(me), Some(t));
        assert_eq!(start_time(0), None);
    }
}
