//! Rebuilds when the templates change: they are compiled into the binary
//! with include_dir, which the compiler does not track by itself.
fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=modules-index.toml");
}
