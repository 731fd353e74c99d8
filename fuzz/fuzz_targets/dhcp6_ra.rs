#![no_main]
//! Any bytes as a router advertisement that odhcp6c mode reads for its
//! RA_* variables, heard twice (a refresh 1 s later must be no change),
//! then the variables: bounded lists, nothing that breaks word splitting.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netsvc::dhcp6::core::ra::digest_untrusted(data);
});
