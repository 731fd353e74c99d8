#![no_main]
//! Feeds any bytes as a `notification-fd` file (readiness::parse_notification_fd), as an sd_notify datagram (datagram_says_ready), as a /proc/PID/stat line (ppid_from_stat) and as a whole supervise/status record with ferrite's extension (Extension::decode into sv's readiness words); asserts no panic, that an accepted descriptor is 3..=1023, and that a decoded extension encodes to a record that decodes to it again with runit's 20 bytes unchanged.
use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use supervisor::runsv::core::readiness::{
    datagram_says_ready, parse_notification_fd, ppid_from_stat, MAX_NOTIFICATION_FD,
};
use supervisor::status::{Extension, Status};
use supervisor::svargs::{readiness_suffix, ready_age};

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = parse_notification_fd(data) {
        assert!((3..=MAX_NOTIFICATION_FD).contains(&n), "{n}");
    }
    let _ = datagram_says_ready(data);
    let _ = ppid_from_stat(&String::from_utf8_lossy(data));

    if let (Some(st), Some(ext)) = (Status::decode(data), Extension::decode(data)) {
        let mut head = [0u8; 20];
        head.copy_from_slice(&data[..20]);
        let full = ext.encode(&head);
        assert_eq!(&full[..20], &head[..]);
        let again = Extension::decode(&full).unwrap();
        assert_eq!(again.start_time, ext.start_time);
        assert_eq!(again.readiness, ext.readiness);
        let now = common::tai::Tai64n::from_unix(u64::from(data[0]) << 30, 0);
        for boot in [None, Some(ext.boot_id), Some([0xee; 16])] {
            let age = ready_age(&ext, boot, Duration::from_nanos(u64::from(data[1])), now);
            let _ = readiness_suffix(&st, &ext.readiness, age);
        }
    }
});
