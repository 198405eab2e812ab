//! XEP-0163 PEP: each account's pubsub nodes (with their configuration) and items.

use std::future::Future;

use crate::{Result, Storage, StorageError, User};

/// The stored configuration of one node (the XEP-0060 subset xmppd supports).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PepNodeConfig {
    /// `pubsub#access_model`: `presence`, `open` or `whitelist`.
    pub access_model: String,
    /// `pubsub#max_items`, already bounded by the server's cap.
    pub max_items: u32,
    /// `pubsub#persist_items`.
    pub persist_items: bool,
    /// `pubsub#send_last_published_item`: `never`, `on_sub` or `on_sub_and_presence`.
    pub send_last: String,
}

/// One stored item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PepItem {
    /// The item id, unique within its node.
    pub id: String,
    /// The serialised payload element.
    pub xml: String,
}

/// Per-account PEP nodes and items.
pub trait PepStore {
    /// Creates or reconfigures a node. `NotFound` if the account is missing.
    fn set_pep_node(
        &self,
        user: User<'_>,
        node: &str,
        config: &PepNodeConfig,
    ) -> impl Future<Output = Result<()>> + Send;

    /// A node's configuration, if the node exists.
    fn pep_node(
        &self,
        user: User<'_>,
        node: &str,
    ) -> impl Future<Output = Result<Option<PepNodeConfig>>> + Send;

    /// Every node of the account, by name.
    fn pep_nodes(
        &self,
        user: User<'_>,
    ) -> impl Future<Output = Result<Vec<(String, PepNodeConfig)>>> + Send;

    /// Deletes a node and its items; `false` if there was no such node.
    fn delete_pep_node(
        &self,
        user: User<'_>,
        node: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Stores an item as the node's newest (replacing one with the same id), then keeps only
    /// the newest `keep` items. `NotFound` if the node is missing.
    fn publish_pep_item(
        &self,
        user: User<'_>,
        node: &str,
        item: &PepItem,
        keep: u32,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Removes one item; `false` if it was not there.
    fn retract_pep_item(
        &self,
        user: User<'_>,
        node: &str,
        id: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Items of a node, newest first: at most `max`, or only those named in `ids` when it is
    /// not empty.
    fn pep_items(
        &self,
        user: User<'_>,
        node: &str,
        max: u32,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<PepItem>>> + Send;
}

type NodeRow = (String, String, i64, i64, String);

fn node_from_row(op: &'static str, row: NodeRow) -> Result<(String, PepNodeConfig)> {
    let (node, access_model, max_items, persist, send_last) = row;
    let max_items = u32::try_from(max_items).map_err(|_| StorageError::Corrupt {
        op,
        detail: format!("max_items {max_items}"),
    })?;
    Ok((
        node,
        PepNodeConfig {
            access_model,
            max_items,
            persist_items: persist != 0,
            send_last,
        },
    ))
}

impl PepStore for Storage {
    async fn set_pep_node(&self, user: User<'_>, node: &str, config: &PepNodeConfig) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO pep_nodes (domain, username, node, access_model, max_items, \
                 persist_items, send_last) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (domain, username, node) DO UPDATE SET \
                 access_model = excluded.access_model, max_items = excluded.max_items, \
                 persist_items = excluded.persist_items, send_last = excluded.send_last",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(node)
            .bind(&config.access_model)
            .bind(i64::from(config.max_items))
            .bind(i64::from(config.persist_items))
            .bind(&config.send_last)
            .execute(pool)
            .await
            .map_err(StorageError::query("set_pep_node", "PEP node"))?;
        });
        Ok(())
    }

    async fn pep_node(&self, user: User<'_>, node: &str) -> Result<Option<PepNodeConfig>> {
        let row: Option<NodeRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT node, access_model, max_items, persist_items, send_last FROM pep_nodes \
                 WHERE domain = $1 AND username = $2 AND node = $3",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(node)
            .fetch_optional(pool)
            .await
            .map_err(StorageError::query("pep_node", "PEP node"))?
        });
        row.map(|r| node_from_row("pep_node", r).map(|(_, c)| c))
            .transpose()
    }

    async fn pep_nodes(&self, user: User<'_>) -> Result<Vec<(String, PepNodeConfig)>> {
        let rows: Vec<NodeRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT node, access_model, max_items, persist_items, send_last FROM pep_nodes \
                 WHERE domain = $1 AND username = $2 ORDER BY node",
            )
            .bind(user.domain)
            .bind(user.username)
            .fetch_all(pool)
            .await
            .map_err(StorageError::query("pep_nodes", "PEP node"))?
        });
        rows.into_iter()
            .map(|r| node_from_row("pep_nodes", r))
            .collect()
    }

    async fn delete_pep_node(&self, user: User<'_>, node: &str) -> Result<bool> {
        let done = with_pool!(self, pool => {
            sqlx::query("DELETE FROM pep_nodes WHERE domain = $1 AND username = $2 AND node = $3")
                .bind(user.domain)
                .bind(user.username)
                .bind(node)
                .execute(pool)
                .await
                .map_err(StorageError::query("delete_pep_node", "PEP node"))?
                .rows_affected()
        });
        Ok(done > 0)
    }

    async fn publish_pep_item(
        &self,
        user: User<'_>,
        node: &str,
        item: &PepItem,
        keep: u32,
    ) -> Result<()> {
        let op = "publish_pep_item";
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(StorageError::query(op, "PEP item"))?;
            // The write comes first, so SQLite takes its write lock at once (see sqlite.rs).
            sqlx::query(
                "INSERT INTO pep_items (domain, username, node, item_id, seq, xml) \
                 SELECT $1, $2, $3, $4, COALESCE(MAX(seq), 0) + 1, $5 FROM pep_items \
                 WHERE domain = $1 AND username = $2 AND node = $3 \
                 ON CONFLICT (domain, username, node, item_id) DO UPDATE SET \
                 seq = excluded.seq, xml = excluded.xml",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(node)
            .bind(&item.id)
            .bind(&item.xml)
            .execute(&mut *tx)
            .await
            .map_err(|e| match StorageError::query(op, "PEP item")(e) {
                StorageError::NotFound { .. } => StorageError::NotFound { what: "PEP node" },
                other => other,
            })?;
            sqlx::query(
                "DELETE FROM pep_items WHERE domain = $1 AND username = $2 AND node = $3 \
                 AND seq NOT IN (SELECT seq FROM pep_items WHERE domain = $1 AND username = $2 \
                 AND node = $3 ORDER BY seq DESC LIMIT $4)",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(node)
            .bind(i64::from(keep))
            .execute(&mut *tx)
            .await
            .map_err(StorageError::query(op, "PEP item"))?;
            tx.commit().await.map_err(StorageError::query(op, "PEP item"))?;
        });
        Ok(())
    }

    async fn retract_pep_item(&self, user: User<'_>, node: &str, id: &str) -> Result<bool> {
        let done = with_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM pep_items WHERE domain = $1 AND username = $2 AND node = $3 \
                 AND item_id = $4",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(node)
            .bind(id)
            .execute(pool)
            .await
            .map_err(StorageError::query("retract_pep_item", "PEP item"))?
            .rows_affected()
        });
        Ok(done > 0)
    }

    async fn pep_items(
        &self,
        user: User<'_>,
        node: &str,
        max: u32,
        ids: &[String],
    ) -> Result<Vec<PepItem>> {
        let rows: Vec<(String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT item_id, xml FROM pep_items WHERE domain = $1 AND username = $2 \
                 AND node = $3 ORDER BY seq DESC LIMIT $4",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(node)
            // Ids are looked up among all items (bounded by max_items when written).
            .bind(if ids.is_empty() { i64::from(max) } else { i64::MAX })
            .fetch_all(pool)
            .await
            .map_err(StorageError::query("pep_items", "PEP item"))?
        });
        Ok(rows
            .into_iter()
            .filter(|(id, _)| ids.is_empty() || ids.contains(id))
            .map(|(id, xml)| PepItem { id, xml })
            .collect())
    }
}
