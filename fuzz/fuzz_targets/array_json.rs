//! An array file (`.json`): read, or an error — never a panic. The readers take paths, so
//! each input goes through a file of this process.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("eqntk-fuzz-{}.json", std::process::id()));
    std::fs::write(&path, data).expect("a writable temporary directory");
    let _ = eqntk::io::read_array(&path);
});
