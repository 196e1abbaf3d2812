//! What every checker and runner shares above the core: the description of
//! an algorithm variant ([`algorithm::Algorithm`]: how its nodes start,
//! restart and store what survives a crash), used alike by the simulator,
//! the model checker, the driver, the fuzz targets and the tests, so none
//! of them imports another for it.

pub mod algorithm;
