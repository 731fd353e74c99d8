#![no_main]
//! Feeds any bytes as a `supervise/timeline` file (timeline::parse, next_seq) and renders what it holds with sv's table and SVG; asserts no panic, that every record kept sits in its own slot and encodes back to the very bytes read, and that the SVG has no bare markup from the name.
use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use supervisor::runsv::core::timeline::{encode, header_boot_id, next_seq, offset, parse, RECORD};
use supervisor::sv::core::timeline::{svg, table, xml_escape, Row};

fuzz_target!(|data: &[u8]| {
    let events = parse(data);
    for (seq, e) in &events {
        let off = offset(*seq) as usize;
        assert_eq!(&data[off..off + RECORD], &encode(*seq, e)[..]);
    }
    if let Some(id) = header_boot_id(data) {
        let n = next_seq(data, &id);
        assert!(n >= 1);
    }
    let name = String::from_utf8_lossy(data.get(..24).unwrap_or(data)).into_owned();
    let escaped = xml_escape(&name);
    assert!(!escaped.contains('<') && !escaped.contains('"'));
    let rows = vec![Row {
        name,
        events: events.iter().map(|(_, e)| *e).collect(),
    }];
    let init = data.first().map(|&b| Duration::from_millis(u64::from(b) * 10));
    let _ = table(&rows, init);
    let s = svg(&rows, init, Duration::from_secs(u64::from(data.len() as u32)));
    assert!(s.ends_with("</svg>\n"));
});
