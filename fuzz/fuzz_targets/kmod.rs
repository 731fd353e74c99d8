#![no_main]
//! Feeds any bytes as a kernel module file (common::kmod::modinfo: the ELF header, section headers and the `.modinfo` strings of a `.ko` from a kernel package); asserts no panic, and that a load order over what was read names each module once.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(info) = common::kmod::modinfo(data) else {
        return;
    };
    // the module depends on what it declares, and those on nothing more
    // (an alias the module declares stands for the module itself)
    let mut lookup = |m: &str| {
        use common::kmod::{Found, ModInfo};
        if m == "fuzzed" {
            Some(Found::Module(info.clone()))
        } else if info.aliases.iter().any(|a| common::kmod::normalize_alias(a).as_deref() == Some(m)) {
            Some(Found::Alias(vec!["fuzzed".into()]))
        } else if info.depends.iter().chain(&info.pre).chain(&info.post).any(|d| d == m) {
            Some(Found::Module(ModInfo::default()))
        } else {
            None
        }
    };
    if let Ok(order) = common::kmod::load_order(&["fuzzed".into()], &mut lookup, &[]) {
        let mut sorted = order.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), order.len(), "a module twice: {order:?}");
        assert!(order.iter().any(|m| m == "fuzzed"));
    }
});
