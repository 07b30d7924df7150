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

/// Renders every file of a new project, as `apply` does.
fn render_all(identity: &Identity) -> Result<FileMap, Box<dyn Error>> {
    let mut files = render::render_project(identity)?;
    files.extend(wiring::render(&identity.package, &Wiring::default()));
    Ok(files)
}

/// Writes every file under `root`.
fn write_all(files: &FileMap, root: &Path) -> Result<(), Box<dyn Error>> {
    for (rel, file) in files {
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
    Ok(())
}

/// One timed run into a fresh directory (created and removed outside the
/// timing): the total and the rendering part of it.
struct Run {
    total: Duration,
    render: Duration,
    files: usize,
}

fn timed_run(identity: &Identity) -> Result<Run, Box<dyn Error>> {
    let dir = tempfile::Builder::new().prefix("qs-bench-").tempdir()?;
    let start = Instant::now();
    let files = render_all(identity)?;
    let render = start.elapsed();
    write_all(&files, dir.path())?;
    let total = start.elapsed();
    dir.close()?;
    Ok(Run {
        total,
        render,
        files: files.len(),
    })
}

fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n.is_multiple_of(2) {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    } else {
        sorted[n / 2]
    }
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
        "{:<16} {:>6} {:>11} {:>11} {:>11} {:>18}",
        "theme", "files", "median ms", "min ms", "max ms", "of which render ms"
    );
    for theme in Theme::ALL {
        let identity = Identity {
            slug: "bench-shop".into(),
            package: "bench_shop".into(),
            theme,
            name: None,
        };
        for _ in 0..WARMUP {
            timed_run(&identity)?;
        }
        let mut totals = Vec::with_capacity(iterations);
        let mut renders = Vec::with_capacity(iterations);
        let mut files = 0;
        for _ in 0..iterations {
            let run = timed_run(&identity)?;
            totals.push(run.total);
            renders.push(run.render);
            files = run.files;
        }
        totals.sort();
        renders.sort();
        println!(
            "{:<16} {:>6} {:>11.3} {:>11.3} {:>11.3} {:>18.3}",
            theme.name(),
            files,
            ms(median(&totals)),
            ms(totals[0]),
            ms(totals[totals.len() - 1]),
            ms(median(&renders))
        );
    }
    Ok(())
}
