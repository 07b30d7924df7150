fn main() -> std::process::ExitCode {
    // https fetches (gix through reqwest) need a TLS crypto provider; ring is
    // the one this binary ships. An error only means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    git_quickscale::cli::main()
}
