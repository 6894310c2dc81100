//! The project's dccd as a greylist server (`dccd -G on`) on a loopback
//! port for `dccifd-bench -G`: its own home (ids file and greylist
//! database) in a temporary directory and its rate limits lifted, so that
//! the figures are dccifd's.

use crate::local_dccd::LocalDccd;
use std::path::Path;

/// The greylist server of a bench run.
pub struct GreyDccd;

impl GreyDccd {
    /// Start the `dccd` program `exe` as a greylist server with its home
    /// in `home` (created) and wait until it answers.
    pub fn start(exe: &Path, home: &Path) -> Result<LocalDccd, String> {
        LocalDccd::start_grey(exe, home)
    }
}
