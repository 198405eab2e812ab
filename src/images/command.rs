//! `deploy images build [SPEC]`: the command around [`super::ensure`], on its own runtime.

use super::{ImageRefs, ImagesError, Options, connect, ensure, ensure_nginx, ensure_xmppd};
use crate::model::Model;
use std::io::Write;

/// Builds (or finds) the images `model` needs, or both local images without a spec, and
/// prints one line per image.
pub fn build(
    model: Option<&Model>,
    options: &Options,
    out: &mut impl Write,
) -> Result<ImageRefs, ImagesError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ImagesError::Runtime)?;
    let refs = runtime.block_on(async {
        let docker = connect().await?;
        match model {
            Some(model) => ensure(&docker, model, options).await,
            None => Ok(ImageRefs {
                xmppd: ensure_xmppd(&docker, options).await?,
                nginx: Some(ensure_nginx(&docker, options.progress).await?),
            }),
        }
    })?;
    let print = |out: &mut dyn Write, name: &str, r: &super::ImageRef| {
        writeln!(out, "{name}: {r}").map_err(ImagesError::Output)
    };
    print(out, "xmppd", &refs.xmppd)?;
    if let Some(nginx) = &refs.nginx {
        print(out, "nginx", nginx)?;
    }
    Ok(refs)
}
