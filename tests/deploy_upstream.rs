//! Upstream images and their pull policy, on the real Docker engine (which has no registry
//! here, so every pull fails): the locally built xmppd image tagged under an upstream-looking
//! name is used by `if-not-present` and `never` without a pull; `always` plans a pull, and
//! apply tries it, fails naming the step and the image, and leaves the running container as it
//! was; a different image under the same reference replaces the container (its id is part of
//! the container's description); with the image gone, `never` is a plan error and
//! `if-not-present` a failed pull that touches nothing.
//!
//! Then the same against a real registry (Debian's `docker-registry` on loopback, which the
//! engine may use over plain HTTP): `always` pulls at every apply, an unchanged image changes
//! nothing, and a new image pushed under the same tag replaces the container.
//!
//! The deployment has xmppd only (no HTTPS front), so no nginx image is needed. The static
//! xmppd build takes minutes: `XMPPD_STATIC_BINARY` names a binary built earlier.

use bollard::Docker;
use bollard::query_parameters::{RemoveImageOptions, TagImageOptions};
use deploy::apply::{ApplyError, Context, Options};
use deploy::images::{ImagesError, XmppdSource};
use deploy::plan::{Action, Kind, Plan, PlanError};
use std::path::{Path, PathBuf};
use std::time::Duration;

const REPO: &str = "registry.invalid/himg-xmppd";
const REFERENCE: &str = "registry.invalid/himg-xmppd:test";

fn xmppd_binary() -> PathBuf {
    match std::env::var_os("XMPPD_STATIC_BINARY") {
        Some(path) => PathBuf::from(path),
        None => deploy::images::build_xmppd(Path::new(env!("CARGO_MANIFEST_DIR")), false)
            .expect("static xmppd build"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A deployment of xmppd alone, removed (with its state and test images) when dropped.
struct Deployment {
    name: String,
    dir: tempfile::TempDir,
    ports: (u16, u16),
    binary: PathBuf,
    /// The xmppd image reference the spec names.
    reference: String,
    /// Images this test made, removed at the end.
    images: Vec<String>,
}

impl Deployment {
    fn new(reference: &str) -> Self {
        let suffix: u32 = rand_suffix();
        Self {
            name: format!("himg-{suffix:08x}"),
            dir: tempfile::tempdir().expect("tempdir"),
            ports: (free_port(), free_port()),
            binary: xmppd_binary(),
            reference: reference.to_owned(),
            images: vec![reference.to_owned()],
        }
    }

    fn model(&self, pull: &str) -> deploy::Model {
        let yaml = format!(
            "name: {name}\ndomain: xmpp.localhost\ntls:\n  certificates:\n    source: local-ca\n\
             ports:\n  c2s: {c2s}\n  c2s_direct_tls: {direct}\n  s2s: null\n  s2s_direct_tls: null\n\
             \x20 http: null\n  https: null\n\
             http:\n  bosh: false\n  websocket: false\n\
             runtime:\n  state_dir: {state}\n  images:\n    xmppd:\n      reference: {reference}\n\
             \x20     pull: {pull}\n",
            name = self.name,
            c2s = self.ports.0,
            direct = self.ports.1,
            state = self.dir.path().join("state").display(),
            reference = self.reference,
        );
        let v = deploy::validate_text(&yaml, self.dir.path()).expect("readable");
        v.model
            .unwrap_or_else(|| panic!("invalid spec: {:?}", v.diagnostics))
    }

    async fn context(&self, pull: &str) -> Context {
        let options = Options {
            state_dir: None,
            images: deploy::images::Options {
                xmppd: XmppdSource::Binary(self.binary.clone()),
                progress: false,
            },
            health_timeout: Duration::from_secs(90),
        };
        Context::new(self.model(pull), &options)
            .await
            .expect("context")
    }

    async fn plan(&self, pull: &str) -> Result<Plan, ApplyError> {
        let ctx = self.context(pull).await;
        let desired = ctx.desired().await?;
        let observed = ctx.observe(&desired).await?;
        Ok(deploy::plan::diff(&desired, &observed)?)
    }

    async fn apply(&self, pull: &str) -> Result<(Plan, String), ApplyError> {
        let ctx = self.context(pull).await;
        let mut out = Vec::new();
        let applied = deploy::apply::apply(&ctx, &mut out, false).await;
        let text = String::from_utf8_lossy(&out).into_owned();
        applied.map(|a| (a.plan, text))
    }

    fn container(&self) -> String {
        format!("{}-xmppd", self.name)
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let model = self.model("never");
        let state = self.dir.path().join("state");
        if let Err(e) = deploy::ops::destroy::destroy(&model, &state, true, &mut std::io::sink()) {
            eprintln!("cleaning up {}: {e}", self.name);
        }
        let mut images = self.images.clone();
        let repo = self
            .reference
            .rsplit_once(':')
            .map_or(self.reference.clone(), |(r, _)| r.to_owned());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let Ok(docker) = deploy::images::connect().await else {
                return;
            };
            // A pull leaves `repo@digest` references behind as well.
            let listed = docker
                .list_images(None::<bollard::query_parameters::ListImagesOptions>)
                .await
                .unwrap_or_default();
            images.extend(
                listed
                    .into_iter()
                    .flat_map(|i| i.repo_digests)
                    .filter(|d| d.starts_with(&format!("{repo}@"))),
            );
            for image in images {
                let _ = docker
                    .remove_image(
                        &image,
                        Some(RemoveImageOptions {
                            force: true,
                            ..Default::default()
                        }),
                        None,
                    )
                    .await;
            }
        });
    }
}

/// Random enough to keep parallel runs apart, without another dependency.
fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish() as u32
}

/// The container's id, the time it started and whether it runs.
async fn container_state(docker: &Docker, name: &str) -> (String, String, bool, String) {
    let c = docker
        .inspect_container(name, None)
        .await
        .expect("inspect container");
    let state = c.state.expect("state");
    (
        c.id.expect("id"),
        state.started_at.expect("started"),
        state.running == Some(true),
        c.image.expect("image id"),
    )
}

fn summary(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .map(|c| format!("{:?} {:?} {}", c.action, c.kind, c.name))
        .collect()
}

fn assert_failed_pull(result: Result<(Plan, String), ApplyError>) {
    let err = result.expect_err("there is no registry to pull from");
    assert!(
        matches!(&err, ApplyError::Images(ImagesError::Pull { component: "xmppd", reference, .. })
            if reference == REFERENCE),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("pulling the xmppd image {REFERENCE}")),
        "{text}"
    );
}

#[test]
fn upstream_images_follow_their_pull_policy() {
    let mut dep = Deployment::new(REFERENCE);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let docker = deploy::images::connect().await.expect("docker");
        // The image built here, under an upstream-looking name.
        let options = deploy::images::Options {
            xmppd: XmppdSource::Binary(dep.binary.clone()),
            progress: false,
        };
        let local = deploy::images::ensure_xmppd(&docker, &options)
            .await
            .expect("local xmppd image");
        docker
            .tag_image(
                &local.reference,
                Some(TagImageOptions {
                    repo: Some(REPO.to_owned()),
                    tag: Some("test".to_owned()),
                }),
            )
            .await
            .expect("tag");

        // Present: `if-not-present` does not pull (a pull would fail here) and runs it.
        let (plan, _) = dep.apply("if-not-present").await.expect("first apply");
        assert!(
            plan.changes.iter().all(|c| c.kind != Kind::Image),
            "{plan:?}"
        );
        let before = container_state(&docker, &dep.container()).await;
        assert!(before.2, "xmppd runs");
        let config = docker
            .inspect_container(&dep.container(), None)
            .await
            .expect("inspect")
            .config
            .expect("config");
        assert_eq!(config.image.as_deref(), Some(REFERENCE));
        for pull in ["if-not-present", "never"] {
            let plan = dep.plan(pull).await.expect("plan");
            assert!(plan.is_empty(), "{pull}: {plan:?}");
        }

        // `always`: planned as a pull; apply tries it first, fails, and changes nothing.
        let plan = dep.plan("always").await.expect("plan");
        assert_eq!(summary(&plan), [format!("Update Image {REFERENCE}")]);
        assert!(plan.changes[0].reason.contains("pull: policy always"));
        assert_failed_pull(dep.apply("always").await);
        assert_eq!(container_state(&docker, &dep.container()).await, before);

        // Another image under the same reference: the container is replaced, no pull needed.
        let mut root = deploy::images::xmppd::rootfs(&dep.binary).expect("root");
        root.file("/etc/himg-variant", 0o644, "2\n");
        let tar = root.tar().expect("tar");
        let changes = deploy::images::xmppd::changes();
        deploy::images::import(&docker, "xmppd", REPO, "test", changes, tar)
            .await
            .expect("import the variant");
        let plan = dep.plan("if-not-present").await.expect("plan");
        assert_eq!(
            summary(&plan),
            [format!("Replace Container {}", dep.container())]
        );
        assert!(plan.changes[0].reason.contains("image id"), "{plan:?}");
        dep.apply("if-not-present").await.expect("replace");
        let after = container_state(&docker, &dep.container()).await;
        assert!(after.2, "the new xmppd runs");
        assert_ne!(after.0, before.0, "a new container");
        assert_ne!(after.3, before.3, "from the other image");
        assert!(dep.plan("if-not-present").await.expect("plan").is_empty());

        // Gone from the engine: `never` cannot plan, `if-not-present` fails to pull; the
        // running container stays as it is.
        docker
            .remove_image(
                REFERENCE,
                Some(RemoveImageOptions {
                    force: true,
                    noprune: true,
                    ..Default::default()
                }),
                None,
            )
            .await
            .expect("untag");
        dep.images.push(after.3.clone());
        let err = dep.plan("never").await.expect_err("never pulls");
        assert!(
            matches!(&err, ApplyError::Plan(PlanError::ImageNeverPulled { component, reference })
                if component == "xmppd" && reference == REFERENCE),
            "{err}"
        );
        assert!(err.to_string().contains("pull is `never`"), "{err}");
        let plan = dep.plan("if-not-present").await.expect("plan");
        assert_eq!(plan.changes[0].action, Action::Create);
        assert_eq!(plan.changes[0].name, REFERENCE);
        assert!(plan.changes[0].reason.contains("pull: image not present"));
        assert_failed_pull(dep.apply("if-not-present").await);
        assert_eq!(container_state(&docker, &dep.container()).await, after);
    });
}

/// Debian's `docker-registry` on a free loopback port, stopped when dropped.
struct Registry {
    port: u16,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .expect("registry config");
        let child = std::process::Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect(
                "docker-registry (Debian package docker-registry; scripts/test.sh installs it)",
            );
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the registry did not listen on {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            child,
            _dir: dir,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn tag(docker: &Docker, image: &str, reference: &str) {
    let (repo, tag) = reference.rsplit_once(':').expect("repo:tag");
    docker
        .tag_image(
            image,
            Some(TagImageOptions {
                repo: Some(repo.to_owned()),
                tag: Some(tag.to_owned()),
            }),
        )
        .await
        .expect("tag");
}

async fn push(docker: &Docker, reference: &str) {
    use futures::StreamExt as _;
    let (repo, tag) = reference.rsplit_once(':').expect("repo:tag");
    let options = bollard::query_parameters::PushImageOptions {
        tag: Some(tag.to_owned()),
        ..Default::default()
    };
    let mut stream = docker.push_image(repo, Some(options), None);
    while let Some(item) = stream.next().await {
        item.expect("push");
    }
}

async fn image_id(docker: &Docker, reference: &str) -> String {
    docker
        .inspect_image(reference)
        .await
        .expect("inspect image")
        .id
        .expect("id")
}

#[test]
fn always_pulls_from_a_registry_and_replaces_only_for_a_new_image() {
    let registry = Registry::start();
    let reference = format!("127.0.0.1:{}/himg-xmppd:test", registry.port);
    let (repo, _) = reference.rsplit_once(':').expect("repo:tag");
    let mut dep = Deployment::new(&reference);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let docker = deploy::images::connect().await.expect("docker");
        let options = deploy::images::Options {
            xmppd: XmppdSource::Binary(dep.binary.clone()),
            progress: false,
        };
        let local = deploy::images::ensure_xmppd(&docker, &options)
            .await
            .expect("local xmppd image");
        let first_id = image_id(&docker, &local.reference).await;
        // In the registry only: the engine has it under its local name alone.
        tag(&docker, &local.reference, &reference).await;
        push(&docker, &reference).await;
        docker
            .remove_image(&reference, None::<RemoveImageOptions>, None)
            .await
            .expect("untag");

        let plan = dep.plan("always").await.expect("plan");
        assert_eq!(plan.changes[0].name, reference);
        assert!(plan.changes[0].reason.contains("pull: image not present"));
        dep.apply("always").await.expect("apply pulls");
        let before = container_state(&docker, &dep.container()).await;
        assert!(before.2, "xmppd runs");
        assert_eq!(before.3, first_id, "from the pulled image");

        // Pulled again and unchanged: the pull is the only step.
        let (plan, out) = dep.apply("always").await.expect("second apply");
        assert_eq!(summary(&plan), [format!("Update Image {reference}")]);
        assert!(!out.contains("after pulling"), "{out}");
        assert_eq!(container_state(&docker, &dep.container()).await, before);

        // A new image under the same tag in the registry; the engine still has the old one.
        let mut root = deploy::images::xmppd::rootfs(&dep.binary).expect("root");
        root.file("/etc/himg-variant", 0o644, "registry\n");
        let tar = root.tar().expect("tar");
        deploy::images::import(
            &docker,
            "xmppd",
            repo,
            "test",
            deploy::images::xmppd::changes(),
            tar,
        )
        .await
        .expect("import the variant");
        let variant_id = image_id(&docker, &reference).await;
        dep.images.push(variant_id.clone());
        push(&docker, &reference).await;
        tag(&docker, &local.reference, &reference).await;
        assert_eq!(image_id(&docker, &reference).await, first_id);
        let plan = dep.plan("always").await.expect("plan");
        assert_eq!(summary(&plan), [format!("Update Image {reference}")]);

        let (plan, out) = dep.apply("always").await.expect("apply the new image");
        assert!(out.contains("after pulling"), "{out}");
        assert_eq!(
            summary(&plan),
            [
                format!("Update Image {reference}"),
                format!("Replace Container {}", dep.container())
            ]
        );
        let after = container_state(&docker, &dep.container()).await;
        assert!(after.2, "the new xmppd runs");
        assert_ne!(after.0, before.0, "a new container");
        assert_eq!(after.3, variant_id, "from the new image");
        let plan = dep.plan("always").await.expect("plan");
        assert_eq!(summary(&plan), [format!("Update Image {reference}")]);
    });
}
