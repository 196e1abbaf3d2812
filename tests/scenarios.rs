//! Scenario tests in the style of etcd's datadriven tests: each file in
//! `tests/testdata/` is a script of commands (see `electorate::sim::scenario`
//! for the language) with the expected output after each one. When behaviour
//! changes on purpose, `REWRITE=1 cargo test --test scenarios` rewrites the
//! expectations; review the diff like code.

use electorate::sim::scenario::Scenario;

#[test]
fn raft_scenarios() {
    datadriven::walk("tests/testdata/raft", |file| {
        let mut scenario = Scenario::new();
        file.run(|case| {
            let mut args = case.args.clone();
            scenario.execute(&case.directive, &mut args, &case.input)
        });
    });
}
