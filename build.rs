//! Rebuilds when the templates change: they are compiled into the binary
//! with include_dir, which the compiler does not track by itself.
//!
//! On Linux (glibc) the binary is linked as a position-dependent executable
//! (`-no-pie`): a PIE of this size makes the dynamic loader apply ~48,000
//! relative relocations at every start, copying ~200 pages of
//! `.data.rel.ro`, which was about half of the CPU time of
//! `git-quickscale --version` and a fixed cost of every hook run
//! (benches/README.md, "Start-up"). The libraries, the heap and the stack
//! stay randomised; the executable's own code does not. Building with
//! `QUICKSCALE_PIE=1` keeps the default PIE.
fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=modules-index.toml");
    println!("cargo:rerun-if-env-changed=QUICKSCALE_PIE");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let linux_gnu = var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && matches!(var("CARGO_CFG_TARGET_ARCH").as_str(), "x86_64" | "aarch64")
        // A static glibc build links as static-pie: left as it is.
        && !var("CARGO_CFG_TARGET_FEATURE")
            .split(',')
            .any(|f| f == "crt-static");
    if linux_gnu && std::env::var_os("QUICKSCALE_PIE").is_none() {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
