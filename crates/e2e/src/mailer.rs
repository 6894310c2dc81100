//! A mailer with sendmail's interface for tests of programs that send mail
//! (`webuser-notify`): a shell script that keeps each message it is given,
//! its arguments first (`ARGS: -i -- bob`), as a file of its outbox.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The script and its outbox.
pub struct Outbox {
    /// The mailer to give the program under test.
    pub script: PathBuf,
    dir: PathBuf,
}

impl Outbox {
    /// A mailer script `sendmail` and its outbox `outbox` in `dir`.
    pub fn new(dir: &Path) -> std::io::Result<Outbox> {
        let out = dir.join("outbox");
        std::fs::create_dir_all(&out)?;
        let script = dir.join("sendmail");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nn=$(ls {o} | wc -l)\n{{ echo \"ARGS: $*\"; cat; }} > {o}/mail.$n\n",
                o = out.display()
            ),
        )?;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        Ok(Outbox { script, dir: out })
    }

    /// The messages kept so far, each with its `ARGS:` line, sorted.
    pub fn mails(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}
