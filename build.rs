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
//!
//! Where the linker is rustc's own lld (x86_64 Linux with glibc, Rust
//! 1.90 and later, no linker chosen by the user), the functions the short
//! commands run are placed together (`benches/hot-symbols.txt`, made by
//! `benches/hot-symbols.sh`): a status or hook run then faults in about 60
//! fewer pages of code. `QUICKSCALE_SYMBOL_ORDER=0` leaves the order to
//! the linker.
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
    println!("cargo:rerun-if-env-changed=QUICKSCALE_SYMBOL_ORDER");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    println!("cargo:rerun-if-changed=benches/hot-symbols.txt");
    if linux_gnu && var("QUICKSCALE_SYMBOL_ORDER") != "0" && linker_is_rusts_lld() {
        let list = std::path::Path::new(&var("CARGO_MANIFEST_DIR")).join("benches/hot-symbols.txt");
        if list.is_file() {
            // `-Xlinker` passes the path whole (`-Wl,` would split it at commas).
            println!("cargo:rustc-link-arg-bins=-Xlinker");
            println!(
                "cargo:rustc-link-arg-bins=--symbol-ordering-file={}",
                list.display()
            );
            // Names from another compiler version are skipped quietly.
            println!("cargo:rustc-link-arg-bins=-Xlinker");
            println!("cargo:rustc-link-arg-bins=--no-warn-symbol-ordering");
        }
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

/// Whether the binary is linked by the lld that rustc brings: the default
/// for x86_64-unknown-linux-gnu since Rust 1.90, unless a linker or linker
/// flags were chosen (GNU ld has no `--symbol-ordering-file`).
fn linker_is_rusts_lld() -> bool {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("TARGET") != "x86_64-unknown-linux-gnu" || std::env::var_os("RUSTC_LINKER").is_some() {
        return false;
    }
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    if ["linker", "link-arg", "link-self-contained", "fuse-ld"]
        .iter()
        .any(|f| flags.contains(f))
    {
        return false;
    }
    let Ok(out) = std::process::Command::new(var("RUSTC")).arg("-vV").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(release) = text.lines().find_map(|l| l.strip_prefix("release: ")) else {
        return false;
    };
    let mut parts = release
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (1, 90)
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
