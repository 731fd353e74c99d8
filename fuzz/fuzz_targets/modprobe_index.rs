#![no_main]
//! Feeds any text as modprobe's index files and configuration (init::modprobe::core: modules.dep, modules.alias, modules.softdep and modprobe.d lines, modules.builtin, /proc/modules, NUL-separated), then looks up the words of the last part and plans their loading and removal; asserts no panic, that a plan names each module once, that a module found by name is in its own plan, and that modules.dep written back by common::kmod::index_files reads back with the same modules at the same paths.
use common::kmod::{index_files, ModInfo, Shipped};
use init::modprobe::core::{Index, Step};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let mut index = Index::default();
    index.add_dep(parts.next().unwrap_or(""));
    index.add_aliases(parts.next().unwrap_or(""));
    index.add_config(parts.next().unwrap_or(""));
    index.add_builtin(parts.next().unwrap_or(""));
    let loaded = init::modprobe::core::loaded_modules(parts.next().unwrap_or(""));
    // the names asked for (the kernel's request, a user's)
    let names = parts.next().unwrap_or("");
    for word in names.split_whitespace().take(8) {
        for (m, via_alias) in index.lookup(word) {
            if let Ok(plan) = index.insert_plan(&m, via_alias, "x=1", &loaded, false, false) {
                let mut seen = BTreeSet::new();
                for s in &plan {
                    let name = match s {
                        Step::Insert { name, .. } | Step::Builtin { name } => name,
                        Step::Remove { .. } => panic!("a removal in a load plan"),
                    };
                    assert!(seen.insert(name.clone()), "{name} twice: {plan:?}");
                }
                let plain = !via_alias && index.modules.contains_key(&m) && !loaded.contains(&m);
                if plain {
                    assert!(seen.contains(&m), "{m} not in its own plan {plan:?}");
                }
            }
            let _ = index.remove_plan(&m);
        }
    }
    // modules.dep written back from what was read: the same modules
    let shipped: Vec<Shipped> = index
        .modules
        .iter()
        .map(|(name, m)| Shipped {
            name: name.clone(),
            path: m.path.clone(),
            info: ModInfo::default(),
        })
        .filter(|s| {
            let file = s.path.rsplit('/').next().unwrap_or(&s.path);
            common::kmod::name_of_file(file).as_deref() == Some(s.name.as_str())
        })
        .collect();
    let mut again = Index::default();
    again.add_dep(&index_files(&shipped).dep);
    for s in &shipped {
        assert_eq!(again.modules.get(&s.name).map(|m| m.path.as_str()), Some(s.path.as_str()));
    }
});
