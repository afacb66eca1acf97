//! Tests of the outbreak engine.
