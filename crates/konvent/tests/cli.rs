//! The command line as people and scripts use it: the real binary, its output and its
//! exit codes.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn konvent() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_konvent"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("KONVENT_DATA")
        .env_remove("KONVENT_BIND")
        .env_remove("KONVENT_PUBLIC_URL")
        .env("RUST_LOG", "warn");
    cmd
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("konvent-cli-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    fn data(&self) -> String {
        self.0.join("data").display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `konvent serve --demo` on a free port and returns it with the printed lines.
fn serve_demo(dir: &TempDir) -> (Child, String, String) {
    let mut child = konvent()
        .args([
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
            "--data",
            &dir.data(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let link = lines.next().expect("a line").expect("utf-8");
    let running = lines.next().expect("a line").expect("utf-8");
    (child, link, running)
}

fn http_get(base: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response[9..12].parse().expect("status");
    (status, response)
}

#[test]
fn serve_demo_prints_a_sign_in_link_serves_the_directory_and_stops_on_sigterm() {
    let dir = TempDir::new();
    let (mut child, link, running) = serve_demo(&dir);
    assert!(link.contains("/anmelden/link/"), "{link}");
    let base = running.rsplit(' ').next().expect("address").to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{running}");
    assert!(!base.ends_with(":0"), "the real port is printed");
    let (status, _) = http_get(&base, "/healthz");
    assert_eq!(status, 200);
    let (_, page) = http_get(&base, "/gremien/konferenzen");
    assert!(page.contains("Verkehrsministerkonferenz") && page.contains("Martina Klement"));

    // Graceful shutdown on SIGTERM.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A second start keeps the data and prints a fresh link.
    let (mut child, second_link, _) = serve_demo(&dir);
    assert_ne!(link, second_link);
    child.kill().expect("kill");
    let _ = child.wait();
}

/// `konvent admin sign-in-link EMAIL --data DIR` with extra environment: stdout, stderr.
fn sign_in_link(dir: &TempDir, email: &str, env: &[(&str, &str)]) -> (String, String) {
    let out = konvent()
        .args(["admin", "sign-in-link", email, "--data", &dir.data()])
        .envs(env.iter().copied())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (String::from_utf8(out.stdout).expect("utf-8"), stderr)
}

#[test]
fn sign_in_links_name_the_address_the_data_folders_server_runs_on_and_say_why() {
    let dir = TempDir::new();
    let (mut child, _, running) = serve_demo(&dir);
    let base = running.rsplit(' ').next().expect("address").to_owned();
    assert_ne!(
        base, "http://127.0.0.1:8080",
        "the test server runs on a port of its own"
    );

    // The server's own address: stdout is the link alone (scripts read it), stderr why.
    let (stdout, stderr) = sign_in_link(&dir, "admin@konvent.example", &[]);
    let link = stdout.strip_suffix('\n').expect("one line");
    assert!(!link.contains('\n'), "only the link on stdout: {stdout:?}");
    assert!(
        link.starts_with(&format!("{base}/anmelden/link/")),
        "{link} names {base}"
    );
    assert!(
        stderr.contains("Adresse, an der der Server dieses Datenordners zuletzt lief"),
        "{stderr}"
    );
    // It works there: the link's page asks to press "Anmelden".
    let path = link.trim_start_matches(&base);
    let (status, page) = http_get(&base, path);
    assert_eq!(status, 200, "{page}");

    // public_url wins, and says so.
    let (stdout, stderr) = sign_in_link(
        &dir,
        "admin@konvent.example",
        &[("KONVENT_PUBLIC_URL", "https://konvent.example.org/")],
    );
    assert!(
        stdout.starts_with("https://konvent.example.org/anmelden/link/"),
        "{stdout}"
    );
    assert!(stderr.contains("Adresse aus public_url"), "{stderr}");
    child.kill().expect("kill");
    let _ = child.wait();

    // A data folder whose server never ran: the default address, and what to set.
    let fresh = TempDir::new();
    let out = konvent()
        .args([
            "admin",
            "invite",
            "neu@konvent.example",
            "--role",
            "participant",
            "--data",
            &fresh.data(),
        ])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.starts_with("http://127.0.0.1:8080/einladung/"),
        "{stdout}"
    );
    assert!(
        stderr.contains("Standardadresse") && stderr.contains("public_url"),
        "{stderr}"
    );
}

#[test]
fn default_config_prints_the_commented_example() {
    let out = konvent().arg("default-config").output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("bind = \"127.0.0.1:8080\"") && text.contains("# "));
}

#[test]
fn admin_invite_prints_a_link_and_refuses_a_role_without_its_scope() {
    let dir = TempDir::new();
    let out = konvent()
        .args([
            "admin",
            "invite",
            "klement@berlin.de",
            "--role",
            "spokesperson",
            "--scope",
            "conference:DMK",
            "--data",
            &dir.data(),
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("/einladung/"));

    let out = konvent()
        .args([
            "admin",
            "invite",
            "x@berlin.de",
            "--role",
            "spokesperson",
            "--data",
            &dir.data(),
        ])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a scope"));
    let out = konvent()
        .args([
            "admin",
            "invite",
            "x@berlin.de",
            "--role",
            "kaiser",
            "--data",
            &dir.data(),
        ])
        .output()
        .expect("runs");
    assert!(!out.status.success());
}

/// `konvent import directory FILE` against the data folder of `dir`.
fn import(dir: &TempDir, file: &std::path::Path) -> std::process::Output {
    konvent()
        .args([
            "import",
            "directory",
            &file.display().to_string(),
            "--data",
            &dir.data(),
        ])
        .output()
        .expect("runs")
}

#[test]
fn import_directory_refuses_a_bad_file_with_row_reasons_and_imports_a_good_one() {
    let dir = TempDir::new();
    let bad = dir.0.join("bad.csv");
    std::fs::write(
        &bad,
        "Konferenz,Name der Konferenz,Rolle,Person,Beginn,Ende\n\
         VMK,Verkehrsministerkonferenz,Sprecher:in,Erika Mustermann,2025-07-01,2025-06-01\n\
         XYZ,,Sprecher:in,Max Muster,,\n",
    )
    .expect("write");
    let out = import(&dir, &bad);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Zeile 2, Spalte „Ende“"), "{err}");

    let good = dir.0.join("good.csv");
    std::fs::write(
        &good,
        "Konferenz,Name der Konferenz,Rolle,Person\nVMK,Verkehrsministerkonferenz,Sprecher:in,Erika Mustermann\n",
    )
    .expect("write");
    let out = import(&dir, &good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 Konferenzen angelegt"));

    // The unknown conference is refused against the database, nothing is written.
    let unknown = dir.0.join("unknown.csv");
    std::fs::write(
        &unknown,
        "Konferenz,Rolle,Person\nVMK,Sprecher:in,Neue Person\nXYZ,Sprecher:in,Max\n",
    )
    .expect("write");
    let out = import(&dir, &unknown);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Unbekannte Konferenz „XYZ“"));
    let known = dir.0.join("known.csv");
    std::fs::write(
        &known,
        "Konferenz,Rolle,Person\nVMK,Sprecher:in,Neue Person\n",
    )
    .expect("write");
    let out = import(&dir, &known);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 Personen angelegt"),
        "the refused file stored nothing: {stdout}"
    );
}

/// The backlog of the listening socket on `port`, as the system reports it (`ss` shows
/// it as the Send-Q of a listening socket).
fn listen_backlog(port: &str) -> u32 {
    let out = Command::new("ss")
        .args(["-Hltn", &format!("sport = :{port}")])
        .output()
        .expect("ss runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(fields.first(), Some(&"LISTEN"), "{text}");
    fields[2].parse().expect("Send-Q")
}

#[test]
fn serve_listens_with_the_systems_backlog_or_the_configured_one() {
    let system: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4096);
    let dir = TempDir::new();
    let (mut child, _, running) = serve_demo(&dir);
    let port = running.rsplit(':').next().expect("port").to_owned();
    let backlog = listen_backlog(&port);
    child.kill().expect("kill");
    let _ = child.wait();
    assert_eq!(backlog, system, "not tokio's fixed 128");

    let config = dir.0.join("konvent.toml");
    std::fs::write(&config, "listen_backlog = 321\n").expect("config");
    let mut child = konvent()
        .args(["--config", &config.display().to_string()])
        .args([
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
            "--data",
            &dir.data(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let _link = lines.next();
    let running = lines.next().expect("a line").expect("utf-8");
    let port = running.rsplit(':').next().expect("port").to_owned();
    let backlog = listen_backlog(&port);
    child.kill().expect("kill");
    let _ = child.wait();
    assert_eq!(backlog, 321.min(system));
}
