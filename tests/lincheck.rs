//! Integration tests of the linearizability checker: the Knossos histories,
//! property tests over generated histories, and the `lincheck` command.

#[path = "lincheck/knossos.rs"]
mod knossos;
