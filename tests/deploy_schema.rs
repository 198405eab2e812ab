//! The checked-in schemas are exactly what the code generates (`UPDATE_GOLDEN=1` rewrites them).

use std::path::PathBuf;

fn check(rel: &str, generated: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, generated).expect("write schema");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{rel} is stale: run `UPDATE_GOLDEN=1 cargo test -p deploy --test deploy_schema`"
    );
}

#[test]
fn spec_schema_is_fresh() {
    check("schema/spec.schema.json", &deploy::Spec::json_schema());
}

#[test]
fn xmppd_schema_is_fresh() {
    check(
        "schema/xmppd.schema.json",
        &xmppd_config::Config::json_schema(),
    );
}

#[test]
fn deploy_schema_prints_the_spec_schema() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deploy"))
        .arg("schema")
        .output()
        .expect("run deploy schema");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        deploy::Spec::json_schema()
    );
}

#[test]
fn schema_rejects_unknown_keys_everywhere() {
    let schema: serde_json::Value =
        serde_json::from_str(&deploy::Spec::json_schema()).expect("schema is JSON");
    let defs = schema["$defs"].as_object().expect("$defs");
    for (name, def) in defs {
        if def.get("properties").is_some() {
            assert_eq!(
                def["additionalProperties"], false,
                "{name} accepts unknown keys"
            );
        }
    }
}
