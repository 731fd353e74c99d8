#![no_main]
//! Feeds any text as an ipconf file, plain or BusyBox array form (fw::core::ipconf::parse), and what it yields to fw's template variables (fw::core::etc::Vars::from_confs); asserts no panic and that whatever parses round-trips: written back in both forms with sh quoting it parses to the same entries.
use libfuzzer_sys::fuzz_target;
use netsvc::dhcp::core::ipconf::quote;
use netsvc::fw::core::etc::Vars;
use netsvc::fw::core::ipconf::{parse, IfConf};

/// One entry as key=value lines, each value single-quoted for sh.
fn write(c: &IfConf, suffix: &str) -> String {
    let mut s = String::new();
    let mut kv = |k: &str, v: &str| s.push_str(&format!("{k}{suffix}={}\n", quote(v)));
    kv("if", &c.interface);
    for (a, p) in &c.addrs {
        kv("ipmask", &format!("{a}/{p}"));
    }
    for (dst, p, gw) in &c.routes {
        if let Some(g) = gw {
            kv("gw", &g.to_string());
        }
        kv("net", &format!("{dst}/{p}"));
    }
    let dns: Vec<String> = c.dns.iter().map(|d| d.to_string()).collect();
    if !dns.is_empty() {
        kv("dns", &dns.join(" "));
    }
    if let Some(d) = &c.domain {
        kv("domain", d);
    }
    if !c.search.is_empty() {
        kv("search", &c.search.join(" "));
    }
    if let Some(m) = c.mtu {
        kv("mtu", &m.to_string());
    }
    if let Some(o) = &c.origin {
        kv("origin", o);
    }
    s
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(confs) = parse(&text, "fuzz") else {
        return;
    };
    let _ = Vars::from_confs(&confs, "box");
    let _ = confs.iter().map(IfConf::from_dhcp).count();
    let array: String = confs
        .iter()
        .map(|c| format!("let cfg=cfg+1\n{}", write(c, "[$cfg]")))
        .collect();
    assert_eq!(parse(&array, "array").as_ref(), Ok(&confs), "{array}");
    if let [c] = &confs[..] {
        let plain = write(c, "");
        assert_eq!(parse(&plain, "plain").as_ref(), Ok(&confs), "{plain}");
    }
});
