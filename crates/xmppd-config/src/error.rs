use std::path::PathBuf;

/// Why a config could not be used; each variant names the failed step.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing config: {message}")]
    Parse { message: String },
    #[error("serialising config: {message}")]
    Serialize { message: String },
    #[error("checking config: {}", problems.join("; "))]
    Invalid { problems: Vec<String> },
}
