//! A claim file (TOML): parsed, or an error — never a panic. The reader takes a path (networks
//! and batches are resolved beside it), so each input goes through a file of this process in
//! a directory of its own.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("eqntk-fuzz-claims-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a writable temporary directory");
    let path = dir.join("claims.toml");
    std::fs::write(&path, data).expect("a writable temporary directory");
    let _ = eqntk::verify::ClaimFile::from_file(&path);
});
