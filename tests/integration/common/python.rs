//! Running the generated Django project's own tooling (Python venvs, npm).
//! Written by the generated-project tests; see test_generated_project.rs.
