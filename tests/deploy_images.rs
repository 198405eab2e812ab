//! Images built with no registry, on the real Docker engine: the xmppd image (static binary,
//! empty root) runs `about` and serves the rendered quickstart config as uid 10000; the nginx
//! image (minimal root from Debian's nginx) passes `nginx -t` on the rendered quickstart config;
//! a second `ensure` finds the content-hash tags and imports nothing; a missing upstream image
//! is pulled (which fails here, with no registry) or refused under `pull: never`.
//!
//! The static xmppd build takes minutes: it runs once per test binary (a `OnceLock`), or not at
//! all when `XMPPD_STATIC_BINARY` names a binary built earlier. Images are kept (tagged), so
//! the next run only hashes; containers are removed.

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    LogsOptions, RemoveContainerOptions, StopContainerOptions, TopOptions,
};
use deploy::images::{
    ImagesError, Options, Outcome, XMPPD_UID, XmppdSource, connect, ensure, ensure_nginx,
    ensure_xmppd,
};
use deploy::render::{self, paths};
use futures::StreamExt as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn xmppd_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| match std::env::var_os("XMPPD_STATIC_BINARY") {
        Some(path) => PathBuf::from(path),
        None => deploy::images::build_xmppd(Path::new(env!("CARGO_MANIFEST_DIR")), false)
            .expect("static xmppd build"),
    })
}

fn options() -> Options {
    Options {
        xmppd: XmppdSource::Binary(xmppd_binary().to_path_buf()),
        progress: false,
    }
}

fn model(yaml: &str) -> deploy::Model {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let v = deploy::validate_text(yaml, &dir).expect("readable");
    v.model
        .unwrap_or_else(|| panic!("invalid spec: {:?}", v.diagnostics))
}

fn quickstart() -> deploy::Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart.yaml");
    model(&std::fs::read_to_string(path).expect("quickstart"))
}

/// The quickstart files rendered for `/deploy`, with a throwaway certificate for every name,
/// readable by the unprivileged users of the images.
fn rendered_tree(model: &deploy::Model) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = render::render(
        model,
        &render::Options {
            root: PathBuf::from("/deploy"),
        },
    )
    .expect("renders");
    render::write(&files, dir.path()).expect("writes");
    let mut names = vec![model.domain.as_str().to_owned()];
    names.extend(model.muc.iter().map(|m| m.domain.as_str().to_owned()));
    names.extend(model.upload.iter().map(|u| u.domain.as_str().to_owned()));
    let cert = rcgen::generate_simple_self_signed(names).expect("certificate");
    let tls = dir.path().join("tls");
    std::fs::create_dir_all(&tls).expect("tls dir");
    std::fs::write(dir.path().join(paths::CERTIFICATE), cert.cert.pem()).expect("cert");
    std::fs::write(
        dir.path().join(paths::PRIVATE_KEY),
        cert.signing_key.serialize_pem(),
    )
    .expect("key");
    open_up(dir.path());
    dir
}

/// The tree is bind-mounted into containers whose users are not root: let them read it.
fn open_up(path: &Path) {
    let mode = if path.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read_dir") {
            open_up(&entry.expect("entry").path());
        }
    }
}

/// A container that is force-removed when dropped, even when the test fails.
struct Container {
    docker: Docker,
    id: String,
}

impl Container {
    async fn start(docker: &Docker, image: &str, cmd: Option<&[&str]>, bind: &Path) -> Self {
        let body = ContainerCreateBody {
            image: Some(image.to_owned()),
            cmd: cmd.map(|c| c.iter().map(|s| (*s).to_owned()).collect()),
            host_config: Some(HostConfig {
                binds: Some(vec![format!("{}:/deploy", bind.display())]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let id = docker
            .create_container(None, body)
            .await
            .expect("create container")
            .id;
        let container = Self {
            docker: docker.clone(),
            id,
        };
        docker
            .start_container(&container.id, None)
            .await
            .expect("start container");
        container
    }

    /// Waits for the exit; returns the exit code and everything printed.
    async fn wait(&self) -> (i64, String) {
        let code = match self.docker.wait_container(&self.id, None).next().await {
            Some(Ok(r)) => r.status_code,
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
            other => panic!("waiting for the container: {other:?}"),
        };
        (code, self.logs().await)
    }

    /// Follows the output until a line contains `needle` (or the container exits); returns
    /// whether it was seen. Used to wait for readiness instead of sleeping.
    async fn wait_for_line(&self, needle: &str) -> bool {
        let options = LogsOptions {
            follow: true,
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        let mut logs = self.docker.logs(&self.id, Some(options));
        let seen = async {
            while let Some(Ok(chunk)) = logs.next().await {
                if chunk.to_string().contains(needle) {
                    return true;
                }
            }
            false
        };
        tokio::time::timeout(std::time::Duration::from_secs(60), seen)
            .await
            .unwrap_or(false)
    }

    async fn logs(&self) -> String {
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        let mut out = String::new();
        let mut logs = self.docker.logs(&self.id, Some(options));
        while let Some(chunk) = logs.next().await {
            out.push_str(&chunk.expect("logs").to_string());
        }
        out
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let (docker, id) = (self.docker.clone(), self.id.clone());
        // Drop cannot await: remove on a thread with its own runtime, and wait for it.
        let removed = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let options = RemoveContainerOptions {
                force: true,
                ..Default::default()
            };
            rt.block_on(docker.remove_container(&id, Some(options)))
        });
        if let Ok(Err(e)) = removed.join() {
            eprintln!("removing container {}: {e}", self.id);
        }
    }
}

#[tokio::test]
async fn xmppd_image_runs_about_and_serves_as_uid_10000() {
    let docker = connect().await.expect("docker");
    let image = ensure_xmppd(&docker, &options())
        .await
        .expect("xmppd image");
    assert!(
        image.reference.starts_with("xmppd-deploy/xmppd:"),
        "{image}"
    );

    let inspect = docker
        .inspect_image(&image.reference)
        .await
        .expect("inspect");
    let config = inspect.config.expect("config");
    assert_eq!(config.user.as_deref(), Some("10000:10000"));
    let labels = config.labels.expect("labels");
    assert_eq!(
        labels
            .get(deploy::images::LABEL_COMPONENT)
            .map(String::as_str),
        Some("xmppd")
    );
    let tag = image.reference.rsplit(':').next().expect("tag");
    let hash = labels
        .get(deploy::images::LABEL_CONTENT_HASH)
        .expect("hash label");
    assert!(hash.starts_with(tag) && hash.len() == 64, "{hash} vs {tag}");

    let tree = rendered_tree(&quickstart());
    let about = Container::start(&docker, &image.reference, Some(&["about"]), tree.path()).await;
    let (code, out) = about.wait().await;
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("xmppd "), "{out}");
    assert!(out.contains("rustls"), "{out}");

    // The image's default command serves the rendered config; it must run as the
    // unprivileged user, and it says `ready` only after opening its SQLite database in
    // /var/lib/xmppd, which proves that folder belongs to that user.
    let server = Container::start(&docker, &image.reference, None, tree.path()).await;
    // As PID 1, xmppd drops a SIGTERM that arrives before its handler is installed: stop it
    // only once it says it is ready.
    assert!(
        server.wait_for_line("ready").await,
        "xmppd never got ready:\n{}",
        server.logs().await
    );
    let top = docker
        .top_processes(
            &server.id,
            Some(TopOptions {
                // The engine needs the PID column to map processes to the container.
                ps_args: "-o pid,uid,args".to_owned(),
            }),
        )
        .await
        .expect("top: xmppd exited at once");
    let processes = top.processes.expect("processes");
    assert!(!processes.is_empty());
    for p in &processes {
        assert_eq!(p[1], XMPPD_UID.to_string(), "{processes:?}");
    }
    docker
        .stop_container(
            &server.id,
            Some(StopContainerOptions {
                t: Some(10),
                ..Default::default()
            }),
        )
        .await
        .expect("stop");
    let (code, out) = server.wait().await;
    assert_eq!(code, 0, "xmppd did not stop cleanly on SIGTERM:\n{out}");
}

#[tokio::test]
async fn nginx_image_passes_nginx_t_on_the_rendered_quickstart() {
    let docker = connect().await.expect("docker");
    let image = ensure_nginx(&docker, false).await.expect("nginx image");
    assert!(
        image.reference.starts_with("xmppd-deploy/nginx:"),
        "{image}"
    );
    let inspect = docker
        .inspect_image(&image.reference)
        .await
        .expect("inspect");
    let labels = inspect.config.and_then(|c| c.labels).expect("labels");
    assert_eq!(
        labels
            .get(deploy::images::LABEL_COMPONENT)
            .map(String::as_str),
        Some("nginx")
    );

    let tree = rendered_tree(&quickstart());
    let cmd = ["-t", "-c", deploy::images::nginx::CONFIG];
    let check = Container::start(&docker, &image.reference, Some(&cmd), tree.path()).await;
    let (code, out) = check.wait().await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("test is successful"), "{out}");
}

#[tokio::test]
async fn second_ensure_imports_nothing_and_keeps_the_tags() {
    let docker = connect().await.expect("docker");
    let model = quickstart();
    let first = ensure(&docker, &model, &options()).await.expect("first");
    let id = |r: String| {
        let docker = docker.clone();
        async move { docker.inspect_image(&r).await.expect("inspect").id }
    };
    let ids = (
        id(first.xmppd.reference.clone()).await,
        id(first.nginx.clone().expect("nginx").reference).await,
    );
    let start = std::time::Instant::now();
    let second = ensure(&docker, &model, &options()).await.expect("second");
    eprintln!("second ensure: {:?}", start.elapsed());
    assert_eq!(second.xmppd.outcome, Outcome::Present);
    let nginx = second.nginx.clone().expect("nginx");
    assert_eq!(nginx.outcome, Outcome::Present);
    assert_eq!(second.xmppd.reference, first.xmppd.reference);
    assert_eq!(
        Some(&nginx.reference),
        first.nginx.as_ref().map(|n| &n.reference)
    );
    assert_eq!(
        (id(second.xmppd.reference).await, id(nginx.reference).await),
        ids
    );
}

#[tokio::test]
async fn a_missing_upstream_image_is_pulled_or_refused_as_its_policy_says() {
    let docker = connect().await.expect("docker");
    let spec = |pull: &str| {
        model(&format!(
            "name: upstream\ndomain: xmpp.localhost\ntls:\n  certificates:\n    source: local-ca\n\
             runtime:\n  images:\n    xmppd:\n      reference: registry.invalid/xmppd:none\n\
             \x20     pull: {pull}\n"
        ))
    };
    // Never built: the xmppd image comes from the spec's reference.
    let options = Options {
        xmppd: XmppdSource::Binary(PathBuf::from("unused")),
        progress: false,
    };
    let err = ensure(&docker, &spec("never"), &options)
        .await
        .expect_err("no such image");
    assert!(
        matches!(&err, ImagesError::UpstreamMissing { component: "xmppd", reference }
            if reference == "registry.invalid/xmppd:none"),
        "{err}"
    );
    assert!(err.to_string().contains("pull: never"), "{err}");
    // There is no registry here: the pull is tried and fails, naming the step and the image.
    let err = ensure(&docker, &spec("if-not-present"), &options)
        .await
        .expect_err("no registry");
    assert!(
        matches!(&err, ImagesError::Pull { component: "xmppd", reference, .. }
            if reference == "registry.invalid/xmppd:none"),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("pulling the xmppd image registry.invalid/xmppd:none"),
        "{err}"
    );
}

#[tokio::test]
async fn a_root_tarball_imports_with_its_settings_and_labels() {
    // The images above are kept between runs, so this proves the import path on every run.
    let docker = connect().await.expect("docker");
    let mut root = deploy::images::rootfs::Rootfs::new();
    root.file("/etc/motd", 0o644, "imported\n")
        .dir("/var/lib/xmppd", 0o700, XMPPD_UID, XMPPD_UID);
    let tar = root.tar().expect("tar");
    let changes = vec![
        "USER 10000:10000".to_owned(),
        format!("LABEL {}=test", deploy::images::LABEL_COMPONENT),
    ];
    let hash = deploy::images::rootfs::content_hash(&tar, &changes);
    let reference = format!("xmppd-deploy/import-test:{}", &hash[..16]);
    deploy::images::import(
        &docker,
        "test",
        "xmppd-deploy/import-test",
        &hash[..16],
        changes,
        tar,
    )
    .await
    .expect("import");
    let inspect = docker.inspect_image(&reference).await.expect("inspect");
    let removed = docker
        .remove_image(
            &reference,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await;
    let config = inspect.config.expect("config");
    assert_eq!(config.user.as_deref(), Some("10000:10000"));
    assert_eq!(
        config
            .labels
            .expect("labels")
            .get(deploy::images::LABEL_COMPONENT)
            .map(String::as_str),
        Some("test")
    );
    removed.expect("remove the test image");
}
