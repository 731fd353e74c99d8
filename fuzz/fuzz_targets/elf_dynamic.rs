#![no_main]
//! Feeds any bytes as an executable or shared library from a Debian package (common::elf: the header, the program headers, PT_INTERP and the PT_DYNAMIC entries with their string table, as the image tool reads every ELF it puts into an image); asserts no panic, and that every name read is one the file holds.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header = common::elf::header(data);
    let Some(d) = common::elf::dynamic(data) else {
        return;
    };
    // what has a dynamic part is an ELF file (a cut one may have a header only)
    assert!(header.is_some());
    let _ = common::elf::section(data, ".dynstr");
    // a DT_NEEDED name is a string of the file: no NUL inside it
    for n in d.needed.iter().chain(&d.rpath).chain(&d.runpath).chain(&d.soname) {
        assert!(!n.contains('\0'), "{n:?}");
        // read lossily: each char (a U+FFFD of 3 bytes too) from at least one byte
        assert!(n.chars().count() <= data.len());
    }
});
