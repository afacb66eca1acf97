//! The documented cases of `tests/data/artifacts.yaml` (and the benign
//! corpus of `tests/data/benign/`) for tests: their schema ([`spec`]), how
//! detection's findings on one are judged ([`check`]) and a benign
//! corpus's figures counted ([`tally`]), and how one is placed on a
//! simulated Windows host ([`place`]) so that collection through the real
//! runtime finds it.

pub mod check;
pub mod place;
pub mod spec;
pub mod tally;
pub mod time;
