//! Services on their own domains inside xmppd (XEP-0363 upload, XEP-0065 proxy, ...): stanzas
//! addressed to such a domain go to the service registered for it instead of local delivery.

use crate::server::Server;
use minidom::Element;
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

/// What a component's stanza handler returns.
pub type Handled<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A service that answers the stanzas sent to its domain (it routes its replies itself).
pub trait Component: Send + Sync + std::fmt::Debug + 'static {
    /// Handles one stanza addressed to the component's domain (or a JID on it).
    fn handle<'a>(&'a self, server: &'a Arc<Server>, stanza: Element) -> Handled<'a>;

    /// The component as `Any`, so its owner can get the concrete type back.
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

/// Components by (lower-case) domain. Registered at start, looked up per routed stanza.
#[derive(Debug, Default)]
pub struct Components {
    by_domain: RwLock<HashMap<String, Arc<dyn Component>>>,
}

impl Components {
    /// The component serving `domain`, if any.
    pub fn get(&self, domain: &str) -> Option<Arc<dyn Component>> {
        let map = self.by_domain.read().unwrap_or_else(|e| e.into_inner());
        map.get(&domain.to_ascii_lowercase()).cloned()
    }

    /// The component of `domain`, registering the one `make` builds if there is none yet (so
    /// several callers share one instance).
    pub fn get_or_register(
        &self,
        domain: &str,
        make: impl FnOnce() -> Arc<dyn Component>,
    ) -> Arc<dyn Component> {
        let mut map = self.by_domain.write().unwrap_or_else(|e| e.into_inner());
        map.entry(domain.to_ascii_lowercase())
            .or_insert_with(make)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Nothing(u8);

    impl Component for Nothing {
        fn handle<'a>(&'a self, _: &'a Arc<Server>, _: Element) -> Handled<'a> {
            Box::pin(async {})
        }
        fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
            self
        }
    }

    #[test]
    fn one_component_per_domain_whatever_the_case() {
        let components = Components::default();
        assert!(components.get("upload.x").is_none());
        components.get_or_register("Upload.X", || Arc::new(Nothing(1)));
        let second = components.get_or_register("upload.x", || Arc::new(Nothing(2)));
        let kept = second.as_any().downcast::<Nothing>().unwrap();
        assert_eq!(kept.0, 1);
        assert!(components.get("UPLOAD.x").is_some());
        assert!(components.get("x").is_none());
    }
}
