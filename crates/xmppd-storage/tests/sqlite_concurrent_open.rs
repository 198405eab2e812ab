//! Several processes (here: tasks with their own pools) opening one fresh SQLite file at once
//! must all end up with a migrated database; sqlx alone lets them race on the migrations.

use xmppd_storage::{Storage, StorageConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_opens_all_succeed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StorageConfig::Sqlite {
        path: dir.path().join("data").join("xmppd.sqlite"),
    };
    let opens: Vec<_> = (0..6)
        .map(|_| {
            let config = config.clone();
            tokio::spawn(async move { Storage::open(&config).await })
        })
        .collect();
    for open in opens {
        let storage = open
            .await
            .expect("task")
            .unwrap_or_else(|e| panic!("a concurrent first open failed: {e}"));
        storage.close().await;
    }
    // And the result is a usable, fully migrated database.
    let storage = Storage::open(&config).await.expect("reopen");
    storage.close().await;
}
