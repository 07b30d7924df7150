//! `status`: the project's modules, their provenance and drift.
