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

/// The kernel's id of this boot (`/proc/sys/kernel/random/boot_id`, a
/// UUID made at every boot) as 16 bytes; `None` when it cannot be read.
/// With it a pid and start time recorded in a file that outlived a reboot
/// are recognised as another boot's.
pub fn boot_id() -> Option<[u8; 16]> {
    boot_id_from_text(&std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?)
}

/// 32 hex digits, dashes anywhere, surrounding whitespace ignored.
pub fn boot_id_from_text(text: &str) -> Option<[u8; 16]> {
    let mut id = [0u8; 16];
    let mut n = 0usize;
    for c in text.trim().chars().filter(|&c| c != '-') {
        let v = c.to_digit(16)? as u8;
        let byte = id.get_mut(n / 2)?;
        *byte = (*byte << 4) | v;
        n += 1;
    }
    (n == 32).then_some(id)
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
    fn boot_ids() {
        let id = boot_id_from_text("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n").unwrap();
        assert_eq!(id[0], 0x0f);
        assert_eq!(id[15], 0xf0);
        for bad in [
            "",
            "0f1e",
            "zz1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0aa",
            "é",
        ] {
            assert_eq!(boot_id_from_text(bad), None, "{bad}");
        }
        let here = boot_id().expect("this kernel has a boot id");
        assert_eq!(boot_id(), Some(here), "stable within a boot");
    }

    #[test]
    fn our_own_start_time_is_stable() {
        let me = std::process::id();
        let t = start_time(me).expect("our own /proc entry");
        assert_eq!(start_time(me), Some(t));
        assert_eq!(start_time(0), None);
    }
}
