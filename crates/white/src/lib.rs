//! whiteclnt files.
