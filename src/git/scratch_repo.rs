//! A scratch repository driven by the git binary, hermetically: the unit
//! tests of src/git compare what gix sees with what git made.

use super::{Git, ObjectId};

pub struct ScratchRepo {
    pub dir: tempfile::TempDir,
}

impl ScratchRepo {
    pub fn new() -> ScratchRepo {
        let repo = ScratchRepo {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .current_dir(self.dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .args(args)
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    /// Writes `file` and commits everything, the file's name as message.
    pub fn commit(&self, file: &str, text: &str) {
        self.write(file, text);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-qm", file]);
    }

    pub fn url(&self) -> String {
        self.dir.path().to_string_lossy().into_owned()
    }

    pub fn open(&self) -> Git {
        Git::open_at_root(self.dir.path())
            .expect("open")
            .expect("repo")
    }

    pub fn id(&self, rev: &str) -> ObjectId {
        ObjectId::from_hex(self.git(&["rev-parse", rev]).as_bytes()).expect("hex")
    }
}
