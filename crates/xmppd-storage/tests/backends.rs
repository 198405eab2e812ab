//! One storage test suite, run against SQLite (a tempdir file, one test per behaviour) and
//! PostgreSQL (a throwaway server started by the test, one fresh database per behaviour).

mod behaviours;
mod support;

use futures::FutureExt;
use support::{Ctx, PgServer};

macro_rules! suite {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let ctx = Ctx::sqlite().await;
                    behaviours::$module::$name(&ctx).await;
                    ctx.close().await;
                }
            )*
        }

        /// One server for all behaviours (initdb costs seconds); each behaviour is caught and
        /// reported by name so one failure does not hide the others.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres_suite() {
            let server = PgServer::start();
            let mut failed: Vec<&str> = Vec::new();
            $(
                let ctx = Ctx::postgres(&server, stringify!($name)).await;
                let outcome = std::panic::AssertUnwindSafe(behaviours::$module::$name(&ctx))
                    .catch_unwind()
                    .await;
                ctx.close().await;
                if outcome.is_err() {
                    failed.push(stringify!($name));
                }
            )*
            assert!(failed.is_empty(), "behaviours failing on PostgreSQL: {failed:?}");
        }
    };
}

suite!(
    accounts::account_create_duplicate_delete,
    accounts::account_delete_cascades,
    accounts::credentials_round_trip_all_hashes,
    accounts::no_password_in_raw_storage,
    roster::roster_upsert_get_remove,
    roster::roster_versions_and_changes_since,
    roster::roster_pending_in,
    offline::offline_store_fetch_delete,
    offline::offline_limit,
    offline::offline_limit_under_concurrency,
    records::private_xml_round_trip,
    records::vcard_round_trip,
    records::last_activity_round_trip,
    records::migrations_idempotent_on_reopen,
    pep::pep_nodes_and_items,
    pep::pep_max_items_and_retract,
    rooms::rooms_save_load_delete,
    directory::directory_listing_search_and_cascade,
    archive::archive_paging_and_filters,
    archive::archive_prefs_and_account_removal,
    blocking::blocklist_block_unblock,
    blocking::privacy_lists_round_trip,
    push::push_enable_limit_disable,
);

/// The SQLite file and the folders we create are private to the server's user.
#[tokio::test]
async fn sqlite_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let tempdir = tempfile::tempdir().expect("tempdir");
    let folder = tempdir.path().join("state").join("db");
    let path = folder.join("xmppd.sqlite");
    let config = xmppd_storage::StorageConfig::Sqlite { path: path.clone() };
    let storage = xmppd_storage::Storage::open(&config).await.expect("open");
    assert_eq!(storage.backend_name(), "sqlite");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(folder.parent().expect("parent")), 0o700);
    let wal = folder.join("xmppd.sqlite-wal");
    assert!(wal.exists(), "WAL journal mode is on");
    assert_eq!(mode(&wal), 0o600);
    storage.close().await;
}
