//! Body, Fuz1 and Fuz2 checksums.
