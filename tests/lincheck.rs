//! Integration tests of the linearizability checker: the Knossos histories,
//! hand-made histories of every model and value type, property tests over
//! generated histories, and the `lincheck` command.

#[path = "lincheck/cli.rs"]
mod cli;
#[path = "lincheck/hand_made.rs"]
mod hand_made;
#[path = "lincheck/knossos.rs"]
mod knossos;
#[path = "lincheck/models.rs"]
mod models;
#[path = "lincheck/properties.rs"]
mod properties;
#[path = "lincheck/values.rs"]
mod values;
