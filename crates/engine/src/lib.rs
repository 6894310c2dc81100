//! The shared DCC client engine.
