use super::*;
use crate::desired::tests_support::{inputs, model};
use crate::desired::{Desired, XMPPD, build};
use crate::observe::{Container, Observed};

/// What observe would see after `desired` was applied completely.
fn converged(d: &Desired) -> Observed {
    Observed {
        networks: [d.network.clone()].into(),
        volumes: d.volumes.iter().map(|v| v.name.clone()).collect(),
        containers: d
            .containers
            .iter()
            .map(|c| Container {
                id: c.name.clone(),
                name: c.name.clone(),
                component: c.component.clone(),
                spec: Some(c.clone()),
                state: "running".to_owned(),
                image: c.image.clone(),
            })
            .collect(),
        images: d.images.values().cloned().collect(),
        files: d
            .files
            .iter()
            .map(|(p, f)| (p.clone(), f.hash.clone()))
            .collect(),
        loaded: d.reload.clone(),
    }
}

/// The plan of a deployment that can be planned.
fn diff(desired: &Desired, observed: &Observed) -> Plan {
    super::diff(desired, observed).expect("plannable")
}

fn quick() -> Desired {
    let m = model(27222);
    build(&m, &inputs(&m, "cert"))
}

fn summary(p: &Plan) -> Vec<String> {
    p.changes
        .iter()
        .map(|c| format!("{:?} {:?} {}", c.action, c.kind, c.name))
        .collect()
}

#[test]
fn nothing_to_do_when_everything_matches() {
    let d = quick();
    assert!(diff(&d, &converged(&d)).is_empty());
}

#[test]
fn fresh_machine_creates_in_order() {
    let d = quick();
    let plan = diff(&d, &Observed::default());
    let kinds: Vec<Kind> = plan.changes.iter().map(|c| c.kind).collect();
    let first = |k: Kind| kinds.iter().position(|x| *x == k).expect("present");
    assert!(first(Kind::Image) < first(Kind::Network));
    assert!(first(Kind::Network) < first(Kind::Volume));
    assert!(first(Kind::Volume) < first(Kind::File));
    assert!(first(Kind::File) < first(Kind::Container));
    let containers: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.kind == Kind::Container)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(containers, ["t-unit-xmppd", "t-unit-nginx"]);
    assert!(plan.changes.iter().all(|c| c.action == Action::Create));
    // Freshly created containers read the current files: no reloads on top.
    assert!(!kinds.contains(&Kind::Reload));
}

#[test]
fn a_port_change_replaces_only_xmppd_and_says_why() {
    let old = quick();
    let m = model(27223);
    let new = build(&m, &inputs(&m, "cert"));
    let plan = diff(&new, &converged(&old));
    assert_eq!(
        summary(&plan),
        [
            "Update File dns/zone.txt",
            "Update File xmppd/xmppd.toml",
            "Replace Container t-unit-xmppd"
        ]
    );
    let reason = &plan.changes[2].reason;
    assert!(reason.contains("ports"), "{reason}");
    assert!(reason.contains("c2s:27222"), "{reason}");
    assert!(reason.contains("c2s:27223"), "{reason}");
    assert!(reason.contains("config"), "{reason}");
}

#[test]
fn a_new_certificate_reloads_instead_of_recreating() {
    let old = quick();
    let m = model(27222);
    let new = build(&m, &inputs(&m, "renewed"));
    let plan = diff(&new, &converged(&old));
    assert_eq!(
        summary(&plan),
        [
            "Update File tls/fullchain.pem",
            "Update Reload nginx",
            "Update Reload xmppd"
        ]
    );
}

#[test]
fn stale_objects_with_our_label_are_deleted_but_volumes_are_kept() {
    let d = quick();
    let mut o = converged(&d);
    let mut extra = o.containers[0].clone();
    extra.name = "t-unit-coturn".to_owned();
    o.containers.push(extra);
    o.networks.insert("t-unit-old".to_owned());
    o.volumes.insert("t-unit-old-data".to_owned());
    o.files.insert("old/file".to_owned(), "x".to_owned());
    let plan = diff(&d, &o);
    assert_eq!(
        summary(&plan),
        [
            "Delete Container t-unit-coturn",
            "Delete Network t-unit-old",
            "Delete File old/file"
        ]
    );
}

#[test]
fn a_stopped_container_is_started_and_a_missing_image_built() {
    let d = quick();
    let mut o = converged(&d);
    o.containers[1].state = "exited".to_owned();
    o.images.clear();
    let plan = diff(&d, &o);
    assert_eq!(
        summary(&plan),
        [
            "Create Image xmppd-deploy/nginx:1",
            "Create Image xmppd-deploy/xmppd:1",
            "Update Container t-unit-nginx"
        ]
    );
}

#[test]
fn json_and_human_output() {
    let d = quick();
    let plan = diff(&d, &Observed::default());
    let v: serde_json::Value = serde_json::from_str(&json(&plan)).expect("json");
    assert_eq!(v["deployment"], "t-unit");
    assert_eq!(v["changes"][0]["action"], "create");
    assert_eq!(v["changes"][0]["kind"], "image");
    let text = human(&plan, false);
    assert!(text.starts_with("t-unit: "), "{text}");
    assert!(
        text.contains("+ container t-unit-xmppd  (missing)"),
        "{text}"
    );
    assert!(!text.contains('\x1b'));
    assert!(human(&plan, true).contains("\x1b[32m+"));
    let golden =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/plan/fresh.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &text).expect("write golden");
    }
    let want = std::fs::read_to_string(&golden).expect("golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(text, want);
}

#[test]
fn before_the_first_certificate_its_files_are_planned_in_the_same_places() {
    let m = model(27222);
    let mut without = inputs(&m, "cert");
    without.tls = None;
    let fresh = diff(&build(&m, &without), &Observed::default());
    let with = diff(&quick(), &Observed::default());
    assert_eq!(summary(&fresh), summary(&with));
    let key = fresh
        .changes
        .iter()
        .find(|c| c.name == "tls/privkey.pem")
        .expect("key planned");
    assert!(key.reason.contains("no certificate yet"), "{}", key.reason);
}

/// `quick()` with the xmppd image upstream under `policy`; `id` is what the engine has.
fn upstream(policy: PullPolicy, id: Option<&str>) -> Desired {
    let m = model(27222);
    let mut i = inputs(&m, "cert");
    i.images
        .insert(XMPPD.to_owned(), "registry.invalid/xmppd:test".to_owned());
    i.upstream.insert(
        XMPPD.to_owned(),
        crate::desired::UpstreamImage {
            pull: policy,
            id: id.map(str::to_owned),
        },
    );
    build(&m, &i)
}

fn without_image(d: &Desired, reference: &str) -> Observed {
    let mut o = converged(d);
    o.images.remove(reference);
    o
}

#[test]
fn an_upstream_image_present_is_not_pulled_unless_the_policy_is_always() {
    for policy in [PullPolicy::IfNotPresent, PullPolicy::Never] {
        let d = upstream(policy, Some("sha256:aaa"));
        assert!(diff(&d, &converged(&d)).is_empty(), "{policy:?}");
    }
    let d = upstream(PullPolicy::Always, Some("sha256:aaa"));
    let plan = diff(&d, &converged(&d));
    assert_eq!(summary(&plan), ["Update Image registry.invalid/xmppd:test"]);
    assert!(plan.changes[0].reason.contains("pull: policy always"));
    // Once this apply has pulled it, `always` is satisfied: the apply converges.
    let mut pulled = d.clone();
    pulled.pulled.insert(XMPPD.to_owned());
    assert!(diff(&pulled, &converged(&d)).is_empty());
}

#[test]
fn an_absent_upstream_image_is_pulled_first_or_refused_under_never() {
    for policy in [PullPolicy::IfNotPresent, PullPolicy::Always] {
        let d = upstream(policy, None);
        let plan = diff(&d, &Observed::default());
        assert_eq!(
            summary(&plan)[..2],
            [
                "Create Image xmppd-deploy/nginx:1",
                "Create Image registry.invalid/xmppd:test"
            ],
            "{policy:?}"
        );
        let reason = &plan.changes[1].reason;
        assert_eq!(reason, "xmppd image: pull: image not present");
    }
    let d = upstream(PullPolicy::Never, None);
    let err = super::diff(&d, &without_image(&d, "registry.invalid/xmppd:test"))
        .expect_err("never pulls");
    assert_eq!(
        err,
        PlanError::ImageNeverPulled {
            component: "xmppd".to_owned(),
            reference: "registry.invalid/xmppd:test".to_owned()
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("runtime.images.xmppd.pull is `never`"),
        "{text}"
    );
}

#[test]
fn a_pulled_image_with_another_id_replaces_only_its_container() {
    let old = upstream(PullPolicy::Always, Some("sha256:0123456789abcdef"));
    let mut new = upstream(PullPolicy::Always, Some("sha256:fedcba9876543210"));
    new.pulled.insert(XMPPD.to_owned());
    let plan = diff(&new, &converged(&old));
    assert_eq!(summary(&plan), ["Replace Container t-unit-xmppd"]);
    let reason = &plan.changes[0].reason;
    assert!(
        reason.contains("image id sha256:0123456789ab -> sha256:fedcba987654"),
        "{reason}"
    );
}

#[test]
fn a_failed_pull_comes_before_every_other_change() {
    // A stale container and a missing network: the pull still goes first, so when it
    // fails nothing else has been touched.
    let d = upstream(PullPolicy::Always, Some("sha256:aaa"));
    let mut o = converged(&d);
    let mut extra = o.containers[0].clone();
    extra.name = "t-unit-coturn".to_owned();
    o.containers.push(extra);
    o.networks.clear();
    let plan = diff(&d, &o);
    assert_eq!(
        summary(&plan)[..2],
        [
            "Update Image registry.invalid/xmppd:test",
            "Delete Container t-unit-coturn"
        ]
    );
}
