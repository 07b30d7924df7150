//! Managed wiring: the files the tool regenerates from the embedded modules.

pub mod spec;
