//! What plan, apply and status share: the engine connection, the model, the absolute state
//! directory and the images the spec needs (hashed, not yet imported).

use super::ApplyError;
use crate::desired::{self, Desired, Inputs, NGINX, UpstreamImage, XMPPD};
use crate::images::{self, Prepared};
use crate::model::{Model, Upstream};
use crate::observe::Observed;
use bollard::Docker;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Settings that are not in the spec.
#[derive(Debug, Clone)]
pub struct Options {
    /// Overrides `runtime.state_dir`.
    pub state_dir: Option<PathBuf>,
    pub images: images::Options,
    pub health_timeout: Duration,
}

/// Where a component's image comes from.
#[derive(Debug, Clone)]
enum Image {
    Upstream(Upstream),
    Local(Box<Prepared>),
}

impl Image {
    fn reference(&self) -> String {
        match self {
            Image::Upstream(u) => u.reference.clone(),
            Image::Local(p) => p.reference(),
        }
    }
}

/// The component names images are reported under.
fn component_name(component: &str) -> &'static str {
    if component == XMPPD { "xmppd" } else { "nginx" }
}

#[derive(Debug)]
pub struct Context {
    pub docker: Docker,
    pub model: Model,
    /// Absolute.
    pub state_dir: PathBuf,
    pub health_timeout: Duration,
    progress: bool,
    images: BTreeMap<String, Image>,
}

impl Context {
    /// Connects to the engine and hashes the images (building xmppd first when so configured).
    pub async fn new(model: Model, options: &Options) -> Result<Self, ApplyError> {
        let docker = images::connect().await?;
        let dir = crate::certs::state_dir(&model, options.state_dir.as_ref());
        let state_dir = std::path::absolute(&dir).map_err(|source| ApplyError::Io {
            what: format!("resolving {}", dir.display()),
            source,
        })?;
        let mut imgs = BTreeMap::new();
        let refs = &model.runtime.images;
        let xmppd = match refs.xmppd.upstream() {
            Some(u) => Image::Upstream(u.clone()),
            None => Image::Local(Box::new(images::prepare_xmppd(&options.images).await?)),
        };
        imgs.insert(XMPPD.to_owned(), xmppd);
        if model.has_web() {
            let nginx = match refs.nginx.upstream() {
                Some(u) => Image::Upstream(u.clone()),
                None => Image::Local(Box::new(images::prepare_nginx().await?)),
            };
            imgs.insert(NGINX.to_owned(), nginx);
        }
        Ok(Self {
            docker,
            model,
            state_dir,
            health_timeout: options.health_timeout,
            progress: options.images.progress,
            images: imgs,
        })
    }

    /// The certificate step (existing code) and a generated DH group when the spec wants one;
    /// returns the notes to show (how to trust a new local CA, ...).
    pub async fn renew_certificates(&self) -> Result<Vec<String>, ApplyError> {
        let model = self.model.clone();
        let options = crate::certs::Options {
            state_dir: Some(self.state_dir.clone()),
            progress: self.progress,
            ..Default::default()
        };
        let progress = self.progress;
        // The certificate step runs its own runtime for ACME: keep it off this one.
        let result = tokio::task::spawn_blocking(move || {
            let outcome = crate::certs::renew(&model, &options)?;
            let state = crate::certs::StateDir::open(
                options
                    .state_dir
                    .as_deref()
                    .unwrap_or(std::path::Path::new(".")),
            )?;
            crate::dh::ensure(&state, model.tls.dh, progress)?;
            Ok::<_, crate::certs::CertsError>(outcome.notes)
        })
        .await;
        match result {
            Ok(r) => Ok(r?),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    /// The desired state from the model, what the state directory holds now and the ids of
    /// the upstream images the engine has.
    pub async fn desired(&self) -> Result<Desired, ApplyError> {
        let mut upstream = BTreeMap::new();
        for (component, image) in &self.images {
            if let Image::Upstream(u) = image {
                let id = images::image_id(&self.docker, &u.reference).await?;
                upstream.insert(component.clone(), UpstreamImage { pull: u.pull, id });
            }
        }
        let rendered = crate::render::render(
            &self.model,
            &crate::render::Options {
                root: PathBuf::from(desired::ROOT),
            },
        )?;
        let read = |rel: &str| crate::certs::store::read_optional(&self.state_dir.join(rel));
        let tls = match (
            read(crate::certs::layout::FULLCHAIN)?,
            read(crate::certs::layout::PRIVKEY)?,
        ) {
            (Some(fullchain_pem), Some(key_pem)) => Some(desired::Tls {
                fullchain_pem,
                key_pem,
            }),
            _ => None,
        };
        let dhparam = match self.model.tls.dh {
            crate::model::Dh::Generate { bits } => {
                read(&crate::dh::cache_path(bits))?.and_then(|b| String::from_utf8(b).ok())
            }
            crate::model::Dh::Ffdhe(_) => None,
        };
        let inputs = Inputs {
            state_dir: self.state_dir.clone(),
            rendered,
            tls,
            dhparam,
            images: self
                .images
                .iter()
                .map(|(c, i)| (c.clone(), i.reference()))
                .collect(),
            upstream,
        };
        Ok(desired::build(&self.model, &inputs))
    }

    pub async fn observe(&self, desired: &Desired) -> Result<Observed, ApplyError> {
        crate::observe::observe(&self.docker, desired, &self.state_dir)
            .await
            .map_err(|source| ApplyError::Docker {
                what: "reading the deployment's containers, networks and volumes".to_owned(),
                source,
            })
    }

    /// Builds (imports) the local image with this reference, or pulls the upstream one;
    /// returns the components whose upstream image was pulled.
    pub async fn import_image(&self, reference: &str) -> Result<Vec<String>, ApplyError> {
        let mut pulled = Vec::new();
        for (component, image) in &self.images {
            if image.reference() != reference {
                continue;
            }
            match image {
                Image::Local(p) => {
                    images::import_prepared(&self.docker, (**p).clone(), self.progress).await?;
                }
                Image::Upstream(u) => {
                    images::pull::pull(&self.docker, component_name(component), u, self.progress)
                        .await?;
                    pulled.push(component.clone());
                }
            }
        }
        Ok(pulled)
    }

    /// The nginx image reference, when the deployment has nginx.
    pub fn nginx_image(&self) -> Option<String> {
        self.images.get(NGINX).map(Image::reference)
    }
}
