//! Writes `$OUT_DIR/generated.rs`: `JACOBIAN_FUZZ_COUNT` random `#[jacobian]` functions
//! (default 200) from seed `JACOBIAN_FUZZ_SEED` (default a fixed constant, so that CI is
//! deterministic), their dual twins and the table the differential test runs.

#[path = "src/generator.rs"]
#[allow(dead_code)]
mod generator;

use std::env;
use std::fs;
use std::path::Path;

fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "");
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=JACOBIAN_FUZZ_SEED");
    println!("cargo:rerun-if-env-changed=JACOBIAN_FUZZ_COUNT");
    println!("cargo:rerun-if-changed=src/generator.rs");
    println!("cargo:rerun-if-changed=src/generator_structs.rs");
    println!("cargo:rerun-if-changed=build.rs");
    let seed = match env::var("JACOBIAN_FUZZ_SEED") {
        Ok(s) => parse_u64(&s).unwrap_or_else(|| panic!("JACOBIAN_FUZZ_SEED={s:?} is not an integer")),
        Err(_) => generator::DEFAULT_SEED,
    };
    let count = match env::var("JACOBIAN_FUZZ_COUNT") {
        Ok(s) => {
            parse_u64(&s).unwrap_or_else(|| panic!("JACOBIAN_FUZZ_COUNT={s:?} is not an integer")) as usize
        }
        Err(_) => generator::DEFAULT_COUNT,
    };
    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("generated.rs");
    let text = generator::generate(seed, count);
    // only rewrite on change, so that an unchanged seed does not recompile the test
    if fs::read_to_string(&out).ok().as_deref() != Some(text.as_str()) {
        fs::write(&out, text).expect("write generated.rs");
    }
    println!("cargo:rustc-env=JACOBIAN_FUZZ_SEED_USED={seed}");
}
