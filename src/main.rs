//! The entry point. On Linux with glibc it is the C `main` (`no_main`):
//! Rust's own start-up reads /proc/self/maps to place the main thread's
//! stack guard and sets up a stack-overflow handler, about 0.1 ms of every
//! run and 7% of a commit hook's (benches/README.md, "What changed in the
//! evening"). What of that start-up matters here is done below: closed
//! standard descriptors reopened on /dev/null (so no file the tool opens
//! becomes its stdout), SIGPIPE ignored (a closed pipe is an error to
//! report, not a kill in the middle of a transaction), a panic turned into
//! exit status 101 after unwinding (which runs the `Drop`s that release
//! locks and scratch refs), and stdout flushed at the end. glibc hands the
//! arguments to the standard library before `main` (its `.init_array`), so
//! `std::env::args` is unchanged; musl does not, so it keeps Rust's
//! start-up, as do the other platforms. A stack overflow ends with SIGSEGV
//! instead of Rust's message (the YAML depth limit keeps recursion
//! shallow). The test build keeps Rust's start-up too: libtest brings its
//! own `main`.
#![cfg_attr(all(target_os = "linux", target_env = "gnu", not(test)), no_main)]

#[cfg(not(all(target_os = "linux", target_env = "gnu", not(test))))]
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(git_quickscale::cli::main())
}

#[cfg(all(target_os = "linux", target_env = "gnu", not(test)))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: start-up is single-threaded; these calls only inspect and
    // reopen descriptors 0-2 and set one signal disposition.
    unsafe {
        for fd in 0..=2 {
            if libc::fcntl(fd, libc::F_GETFD) == -1
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
                && libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) == -1
            {
                libc::abort();
            }
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let code = std::panic::catch_unwind(git_quickscale::cli::main).unwrap_or(101);
    let _ = std::io::Write::flush(&mut std::io::stdout());
    libc::c_int::from(code)
}

/// The two functions of the C maths library that the binary calls
/// (`f64::log2` in the secrets scan, `f64::powf` in indicatif's rate
/// estimate), defined here from the `libm` crate: with no symbol left for
/// it, the linker (`--as-needed`) drops `libm.so.6`, which every run would
/// otherwise load and relocate before `main`.
#[cfg(all(target_os = "linux", target_env = "gnu", not(test)))]
#[unsafe(no_mangle)]
extern "C" fn log2(x: f64) -> f64 {
    libm::log2(x)
}

#[cfg(all(target_os = "linux", target_env = "gnu", not(test)))]
#[unsafe(no_mangle)]
extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}
