//! Envelope and header checksums.
