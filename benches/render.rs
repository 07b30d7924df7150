//! Wall time to render a whole new project and write it to disk, per theme:
//! `render::render_project` plus the managed wiring (`wiring::render`), every
//! file written into a fresh temporary directory, as `apply` does for a new
//! project (minus git). Run with `cargo bench --bench render`.

#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::Path;
use std::time::{Duration, Instant};

use git_quickscale::config::{Identity, Theme};
use git_quickscale::render::{self, FileMap};
use git_quickscale::wiring::{self, Wiring};

const WARMUP: usize = 3;
const ITERATIONS: usize = 30;

/// Renders the project and writes every file under `root`; returns the file count.
fn render_and_write(identity: &Identity, root: &Path) -> Result<usize, Box<dyn Error>> {
    let mut files: FileMap = render::render_project(identity)?;
    files.extend(wiring::render(&identity.package, &Wiring::default()));
    for (rel, file) in &files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &file.contents)?;
        if file.executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(files.len())
}

/// One timed run into a fresh directory (created and removed outside the timing).
fn timed_run(identity: &Identity) -> Result<(Duration, usize), Box<dyn Error>> {
    let dir = tempfile::Builder::new().prefix("qs-bench-").tempdir()?;
    let start = Instant::now();
    let count = render_and_write(identity, dir.path())?;
    let elapsed = start.elapsed();
    dir.close()?;
    Ok((elapsed, count))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> Result<(), Box<dyn Error>> {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let iterations = if quick { 1 } else { ITERATIONS };
    println!(
        "render + write a new project ({iterations} iterations per theme after {WARMUP} warm-up runs)"
    );
    println!(
        "{:<16} {:>6} {:>11} {:>11} {:>11}",
        "theme", "files", "median ms", "min ms", "max ms"
    );
    for theme in Theme::ALL {
        let identity = Identity {
            slug: "bench-shop".into(),
            package: "bench_shop".into(),
            theme,
        };
        for _ in 0..WARMUP {
            timed_run(&identity)?;
        }
        let mut times = Vec::with_capacity(iterations);
        let mut files = 0;
        for _ in 0..iterations {
            let (elapsed, count) = timed_run(&identity)?;
            times.push(elapsed);
            files = count;
        }
        times.sort();
        let median = if times.len() % 2 == 0 {
            (times[times.len() / 2 - 1] + times[times.len() / 2]) / 2
        } else {
            times[times.len() / 2]
        };
        println!(
            "{:<16} {:>6} {:>11.3} {:>11.3} {:>11.3}",
            theme.name(),
            files,
            ms(median),
            ms(times[0]),
            ms(times[times.len() - 1])
        );
    }
    Ok(())
}
