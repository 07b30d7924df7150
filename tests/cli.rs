//! trycmd snapshots of the static CLI surface: help, usage errors,
//! list-modules, plan, and the corpus of bad inputs.

#[test]
fn cli_snapshots() {
    trycmd::TestCases::new()
        .register_bin(
            "git-quickscale",
            trycmd::cargo::cargo_bin!("git-quickscale"),
        )
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("QUICKSCALE_INDEX", "")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .case("tests/cmd/*/*.toml")
        .case("tests/cmd/*/*.md");
}
