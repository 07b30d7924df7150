fn main() -> std::process::ExitCode {
    git_quickscale::cli::main()
}
