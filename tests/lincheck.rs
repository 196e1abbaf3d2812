//! Integration tests of the linearizability checker: the Knossos histories,
//! property tests over generated histories, and the `lincheck` command.

#[path = "lincheck/cli.rs"]
mod cli;
#[path = "lincheck/hand_made.rs"]
mod hand_made;
#[path = "lincheck/knossos.rs"]
mod knossos;
#[path = "lincheck/properties.rs"]
mod properties;
