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
//! `QUICKSCALE_PIE=1` keeps the default PIE. The unwinder is linked in
//! statically (`QUICKSCALE_LIBGCC_S=1` keeps the shared libgcc_s).
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
    println!("cargo:rerun-if-env-changed=QUICKSCALE_LIBGCC_S");
    if linux_gnu
        && var("HOST") == var("TARGET")
        && std::env::var_os("QUICKSCALE_LIBGCC_S").is_none()
        && let Some(dir) = static_unwinder_dir()
    {
        // The unwinder linked in (as `gcc -static-libgcc` does): libgcc_s
        // is then not loaded at all, and its loading, relocation and
        // CPU-feature constructor were about 0.1 ms of every run, hooks
        // included. `--as-needed` drops it once nothing refers to it.
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-lib=static:+whole-archive,-bundle=gcc_eh");
    }
}

/// The directory of the C compiler's `libgcc_eh.a`, when it has one (a
/// compiler without it keeps the shared libgcc_s, as before).
fn static_unwinder_dir() -> Option<String> {
    let out = std::process::Command::new("cc")
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()?;
    let path = std::path::PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    // Without it, the compiler prints the bare name back.
    if !out.status.success() || !path.is_absolute() || !path.is_file() {
        return None;
    }
    Some(path.parent()?.to_str()?.to_owned())
}
