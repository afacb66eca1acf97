//! Unit tests of the lab runtime on a baseline host (the contract tests
//! over WinRM are in tests/runtime_contract.rs).
