//! A throwaway PostgreSQL server per test process: Debian's binaries, a temporary data folder,
//! a unix socket in that folder and no TCP listener, stopped in `Drop`.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// Debian puts each major version under this folder.
const DEBIAN_PG_ROOT: &str = "/usr/lib/postgresql";

pub struct PgServer {
    dir: TempDir,
    bin: PathBuf,
    as_postgres: bool,
}

fn bin_dir() -> PathBuf {
    let newest = std::fs::read_dir(DEBIAN_PG_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .max_by_key(|bin| {
            bin.parent()
                .and_then(Path::file_name)
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
        });
    newest.unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries not found ({DEBIAN_PG_ROOT}/*/bin/initdb and pg_ctl): \
             install the Debian package `postgresql` (scripts/test.sh does); \
             the PostgreSQL backend tests cannot run without them"
        )
    })
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user.
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

impl PgServer {
    pub fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("xmppd-pg")
            .tempdir()
            .expect("temporary folder for PostgreSQL");
        // PostgreSQL refuses to run as root: hand the folder to the `postgres` user.
        let as_postgres = running_as_root();
        if as_postgres {
            run(Command::new("chown").arg("postgres:").arg(dir.path()));
        }
        let server = Self {
            dir,
            bin,
            as_postgres,
        };
        let data = server.data_dir();
        run(server
            .pg_command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
            .arg("--no-sync"));
        // -w makes pg_ctl wait until the server accepts connections.
        let options = format!(
            "-k {} -h '' -F -c max_connections=40",
            server.dir.path().display()
        );
        run(server
            .pg_command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(server.dir.path().join("server.log"))
            .args(["-w", "-o", &options, "start"]));
        server
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The data folder: every byte the server stores lives under it.
    pub fn raw_dir(&self) -> PathBuf {
        self.data_dir()
    }

    fn pg_command(&self, tool: &str) -> Command {
        let tool = self.bin.join(tool);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(tool);
            command
        } else {
            Command::new(tool)
        }
    }

    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@localhost/{database}?host={}",
            self.dir.path().display()
        )
    }

    /// Creates an empty database for one behaviour.
    pub async fn create_database(&self, name: &str) -> String {
        let admin = sqlx::PgPool::connect(&self.url("postgres"))
            .await
            .expect("connect to the test server");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&admin)
            .await
            .expect("create a test database");
        admin.close().await;
        self.url(name)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // Immediate: the data is thrown away with the folder anyway.
        let _ = self
            .pg_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .status();
    }
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
