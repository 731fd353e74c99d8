//! Debian's kea-dhcp6-server as the ISP's DHCPv6 server of the namespace
//! and QEMU tests (tests/dhcp6.rs, the router board in tests/qemu.rs):
//! its configuration and a launcher that runs it unprivileged in a test
//! directory and waits until it listens.

use super::*;

pub const KEA: &str = "/usr/sbin/kea-dhcp6";

/// Root, iproute2 and kea-dhcp6.
pub fn prerequisites() -> bool {
    netns_prerequisites() && require("kea-dhcp6 (kea-dhcp6-server)", have_program(KEA))
}

/// kea's configuration on `iface`: addresses from 2001:db8:1::100-1ff,
/// prefixes of `delegated_len` out of `pd_prefix`/48, DNS and a search
/// domain; `extra_subnet` is spliced into the subnet (`, "rapid-commit": true`).
pub fn kea_conf(iface: &str, pd_prefix: &str, delegated_len: u8, extra_subnet: &str) -> String {
    format!(
        r#"{{"Dhcp6": {{
  "interfaces-config": {{ "interfaces": ["{iface}"] }},
  "server-id": {{ "type": "LL", "persist": false }},
  "lease-database": {{ "type": "memfile", "persist": false }},
  "renew-timer": 20, "rebind-timer": 32, "preferred-lifetime": 40, "valid-lifetime": 60,
  "subnet6": [{{
    "id": 1, "subnet": "2001:db8:1::/64", "interface": "{iface}",
    "pools": [{{ "pool": "2001:db8:1::100-2001:db8:1::1ff" }}],
    "pd-pools": [{{ "prefix": "{pd_prefix}", "prefix-len": 48, "delegated-len": {delegated_len} }}],
    "option-data": [
      {{ "name": "dns-servers", "data": "2001:db8:1::53" }},
      {{ "name": "domain-search", "data": "lab.example" }}
    ]{extra_subnet}
  }}],
  "loggers": [{{ "name": "kea-dhcp6", "output_options": [{{ "output": "stdout" }}], "severity": "INFO" }}]
}}}}"#
    )
}

/// kea with `conf` in `ns` (its files in `dir`: kea.json, kea.log, the
/// lock and pid files), once it listens on port 547 (within `wait`).
pub fn start(ns: &Netns, dir: &Path, conf: &str, wait: Duration) -> Guard {
    let c = dir.join("kea.json");
    fs::write(&c, conf).unwrap();
    let run = dir.join("kea-run");
    fs::create_dir_all(&run).unwrap();
    let log = fs::File::create(dir.join("kea.log")).unwrap();
    let child = ns
        .exec()
        .args([KEA, "-c", c.to_str().unwrap()])
        .env("KEA_LOCKFILE_DIR", &run)
        .env("KEA_PIDFILE_DIR", &run)
        .env("KEA_LOGGER_DESTINATION", "stdout")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let guard = Guard(child);
    let listening = wait_until(wait, || ns.output(&["ss", "-uln"]).contains(":547"));
    assert!(
        listening,
        "kea does not listen: {}",
        text_of(&dir.join("kea.log"))
    );
    guard
}
