#![no_main]
//! Feeds any words as an applet's argv (common::getopt::parse, with any set of letters that take a value); asserts no panic, that the operands start inside argv, and that the options written back one per word (then `--`) parse to the same options and operands.
use common::getopt::{parse, Opt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // NUL-separated: the letters that take a value, then the arguments
    let mut words = data
        .split(|&b| b == 0)
        .map(|w| String::from_utf8_lossy(w).into_owned());
    let with_value = words.next().unwrap_or_default();
    let args: Vec<String> = words.collect();
    let Ok((opts, first)) = parse(&args, &with_value) else {
        return;
    };
    assert!(first <= args.len());
    // the letter `-` (from `--x`, or `-x-` when `-` takes a value) cannot be
    // written as a word of its own: `--` ends the options
    if opts
        .iter()
        .any(|o| matches!(o, Opt::Flag('-') | Opt::Value('-', _)))
    {
        return;
    }
    let mut again = Vec::new();
    for o in &opts {
        match o {
            Opt::Flag(c) => again.push(format!("-{c}")),
            Opt::Value(c, v) => {
                assert!(with_value.contains(*c));
                again.push(format!("-{c}"));
                again.push(v.clone());
            }
            Opt::Help => again.push("--help".into()),
            Opt::Long(_) | Opt::LongValue(..) => panic!("a long option the spec does not have"),
        }
    }
    again.push("--".into());
    again.extend_from_slice(&args[first..]);
    let (opts2, first2) = parse(&again, &with_value).expect("written back, it parses");
    assert_eq!(opts2, opts);
    assert_eq!(&again[first2..], &args[first..]);
});
