use super::*;

/// The quickstart spec with its own name and ports, as the tests deploy it.
pub(crate) fn model(c2s: u16) -> Model {
    let yaml = format!(
        "name: t-unit\ndomain: xmpp.localhost\ntls:\n  certificates:\n    source: local-ca\n\
         services:\n  upload: {{}}\nports:\n  c2s: {c2s}\n  https: 27443\n  http: 27080\n"
    );
    let v = crate::validate_text(&yaml, std::path::Path::new("/spec")).expect("readable");
    v.model
        .unwrap_or_else(|| panic!("invalid: {:?}", v.diagnostics))
}

pub(crate) fn inputs(model: &Model, cert: &str) -> Inputs {
    let rendered = crate::render::render(
        model,
        &crate::render::Options {
            root: PathBuf::from(ROOT),
        },
    )
    .expect("renders");
    Inputs {
        state_dir: PathBuf::from("/state"),
        rendered,
        tls: Some(Tls {
            fullchain_pem: cert.as_bytes().to_vec(),
            key_pem: b"key".to_vec(),
        }),
        dhparam: None,
        images: BTreeMap::from([
            (XMPPD.to_owned(), "xmppd-deploy/xmppd:1".to_owned()),
            (NGINX.to_owned(), "xmppd-deploy/nginx:1".to_owned()),
        ]),
        upstream: BTreeMap::new(),
    }
}

#[test]
fn build_is_deterministic_and_labels_carry_the_hash() {
    let m = model(27222);
    let a = build(&m, &inputs(&m, "cert"));
    let b = build(&m, &inputs(&m, "cert"));
    assert_eq!(a.containers, b.containers);
    let x = &a.containers[0];
    assert_eq!(x.name, "t-unit-xmppd");
    let labels = x.labels("t-unit");
    assert_eq!(labels[LABEL_DEPLOYMENT], "t-unit");
    assert_eq!(labels[LABEL_COMPONENT], "xmppd");
    assert_eq!(labels[LABEL_CONFIG_HASH], x.hash());
    let back: ContainerSpec = serde_json::from_str(&labels[LABEL_CONFIG]).expect("json");
    assert_eq!(&back, x);
}

#[test]
fn containers_are_hardened_and_publish_the_spec_ports() {
    let m = model(27222);
    let d = build(&m, &inputs(&m, "cert"));
    let names: Vec<&str> = d.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["t-unit-xmppd", "t-unit-nginx"]);
    for c in &d.containers {
        assert!(c.read_only, "{}", c.name);
        assert_eq!(c.user, "10000:10000");
        assert_eq!(c.tmpfs, ["/tmp"]);
        assert!(!c.health.is_empty());
    }
    let ports = |i: usize| -> Vec<u16> { d.containers[i].ports.iter().map(|p| p.port).collect() };
    assert!(ports(0).contains(&27222), "{:?}", ports(0));
    assert_eq!(ports(1), [27080, 27443]);
    let vols: Vec<&str> = d.volumes.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        vols,
        ["t-unit-xmppd-data", "t-unit-uploads", "t-unit-acme-webroot"]
    );
    assert_eq!(d.volumes[2].bind, Some(PathBuf::from("/state/webroot")));
    assert!(d.files[crate::render::paths::PRIVATE_KEY].private);
}

#[test]
fn a_port_changes_only_xmppd_and_a_certificate_only_reload_hashes() {
    let m = model(27222);
    let base = build(&m, &inputs(&m, "cert"));
    let m2 = model(27223);
    let port = build(&m2, &inputs(&m2, "cert"));
    assert_ne!(base.containers[0], port.containers[0]);
    assert_eq!(base.containers[1], port.containers[1]);
    let cert = build(&m, &inputs(&m, "new cert"));
    assert_eq!(base.containers, cert.containers);
    assert_ne!(base.reload[XMPPD], cert.reload[XMPPD]);
    assert_ne!(base.reload[NGINX], cert.reload[NGINX]);
}

#[test]
fn an_upstream_image_id_is_part_of_the_container_description() {
    let m = model(27222);
    let with_id = |id: Option<&str>| {
        let mut i = inputs(&m, "cert");
        i.images
            .insert(XMPPD.to_owned(), "registry.invalid/xmppd:1".to_owned());
        i.upstream.insert(
            XMPPD.to_owned(),
            UpstreamImage {
                pull: crate::spec::PullPolicy::Always,
                id: id.map(str::to_owned),
            },
        );
        build(&m, &i)
    };
    let a = with_id(Some("sha256:a"));
    let b = with_id(Some("sha256:b"));
    assert_eq!(a.containers[0].image, "registry.invalid/xmppd:1");
    assert_eq!(a.containers[0].image_id, "sha256:a");
    assert_ne!(a.containers[0].hash(), b.containers[0].hash());
    // nginx is still built here: no id, and its description has no `image_id` key at all, so
    // containers made before upstream images existed are not replaced.
    assert_eq!(a.containers[1], b.containers[1]);
    assert!(!a.containers[1].to_json().contains("image_id"));
    assert_eq!(a.upstream[XMPPD].pull, crate::spec::PullPolicy::Always);
    assert!(a.pulled.is_empty());
}
