//! Settings of `lvyue-node serve`, from four layers, highest first:
//!
//! 1. command-line flags (`--max-batch 512`);
//! 2. environment variables (`LVYUE_MAX_BATCH=512`; the log level also
//!    falls back to `RUST_LOG`);
//! 3. a TOML file (`--config FILE` / `LVYUE_CONFIG`, else `DATA/lvyue.toml`
//!    when it exists) with the same names in snake_case (`max_batch = 512`);
//! 4. the built-in defaults (`Settings::default`, taken from the sequencer's
//!    and the server's own defaults so that they cannot drift apart).
//!
//! Every setting is listed once, in the `layer!` table below; that one table
//! makes the clap flags, the TOML keys and the environment names. The
//! environment is read here through a lookup function rather than by clap's
//! `env` attribute so that the precedence is a pure function that tests can
//! drive with a map (setting the real process environment in a test is
//! `unsafe` in Rust 2024), and so that a bad value names its variable.
//! docs/OPERATIONS.md, "Configuration", documents each setting.

use crate::node::{DEFAULT_ORIGIN, InitOptions};
use crate::sequencer::SequencerConfig;
use crate::server::ServerConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The data folder when nothing says otherwise.
pub const DEFAULT_DATA: &str = "./lvyue-data";
/// The listen address when nothing says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The log filter when neither a setting nor `RUST_LOG` gives one.
pub const DEFAULT_LOG_LEVEL: &str = "info";
/// Name of the config file looked for in the data folder.
pub const CONFIG_FILE_NAME: &str = "lvyue.toml";
/// Environment variable naming the config file.
pub const CONFIG_ENV: &str = "LVYUE_CONFIG";

/// Why the settings could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {}: {detail}", path.display())]
    Parse { path: PathBuf, detail: String },
    #[error("environment variable {name}={value:?}: {detail}")]
    Env {
        name: &'static str,
        value: String,
        detail: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Log line format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("log format {s:?}: want text or json")),
        }
    }
}

/// Where log lines go and which ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing-subscriber` env-filter directive, e.g. `info` or `lvyue_node=debug,warn`.
    pub level: String,
}

macro_rules! layer {
    ($( $(#[$doc:meta])* $field:ident : $ty:ty = $env:literal; )*) => {
        /// One layer of settings (flags, environment or file): each setting
        /// is either given or not.
        #[derive(Clone, Debug, Default, PartialEq, Deserialize, clap::Args)]
        #[serde(deny_unknown_fields)]
        pub struct Layer {
            $( $(#[$doc])* #[arg(long)] pub $field: Option<$ty>, )*
        }

        impl Layer {
            /// Every setting's name and its environment variable.
            pub const ENV: &'static [(&'static str, &'static str)] =
                &[$( (stringify!($field), $env) ),*];

            /// The environment layer, read through `lookup` (unset and
            /// empty variables count as not given).
            pub fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
                Ok(Layer { $( $field: env_value(lookup, $env)?, )* })
            }

            /// `self` where given, else `lower`.
            #[must_use]
            pub fn over(self, lower: Layer) -> Layer {
                Layer { $( $field: self.$field.or(lower.$field), )* }
            }

            /// Fills what no layer gave from the defaults.
            #[must_use]
            pub fn resolve(self) -> Settings {
                let d = Settings::default();
                Settings { $( $field: self.$field.unwrap_or(d.$field), )* }
            }
        }

        /// The settings `serve` runs with.
        #[derive(Clone, Debug, PartialEq, Serialize)]
        pub struct Settings {
            $( pub $field: $ty, )*
        }
    };
}

layer! {
    /// Data folder: keys/, store/ and the default lvyue.toml
    /// [env: LVYUE_DATA] [default: ./lvyue-data]
    data: PathBuf = "LVYUE_DATA";
    /// Address to listen on, host:port [env: LVYUE_LISTEN] [default: 127.0.0.1:8080]
    listen: String = "LVYUE_LISTEN";
    /// Log origin (checkpoint first line and node key name); used when the
    /// data folder is initialised [env: LVYUE_ORIGIN] [default: lvyue.local/log]
    origin: String = "LVYUE_ORIGIN";
    /// Most submissions per durable write (group commit)
    /// [env: LVYUE_MAX_BATCH] [default: 1024]
    max_batch: usize = "LVYUE_MAX_BATCH";
    /// Longest a submission waits for its batch to fill, milliseconds
    /// [env: LVYUE_MAX_WAIT_MS] [default: 0]
    max_wait_ms: u64 = "LVYUE_MAX_WAIT_MS";
    /// Largest request body, bytes [env: LVYUE_BODY_LIMIT] [default: 262144]
    body_limit: usize = "LVYUE_BODY_LIMIT";
    /// Largest body of a batch submission or bulk import, bytes
    /// [env: LVYUE_BATCH_BODY_LIMIT] [default: 16777216]
    batch_body_limit: usize = "LVYUE_BATCH_BODY_LIMIT";
    /// Sustained submissions per second per signing key, 0 = no limit
    /// [env: LVYUE_RATE_PER_KEY] [default: 200]
    rate_per_key: u32 = "LVYUE_RATE_PER_KEY";
    /// Submissions one key may send in a burst above its rate
    /// [env: LVYUE_RATE_BURST] [default: 1000]
    rate_burst: u32 = "LVYUE_RATE_BURST";
    /// When idle this long and a rule deadline has passed, append a Tick, seconds
    /// [env: LVYUE_TICK_INTERVAL_SECS] [default: 60]
    tick_interval_secs: u64 = "LVYUE_TICK_INTERVAL_SECS";
    /// Snapshot the rules engine after this many entries
    /// [env: LVYUE_SNAPSHOT_EVERY] [default: 1000000]
    snapshot_every: u64 = "LVYUE_SNAPSHOT_EVERY";
    /// Log line format [env: LVYUE_LOG_FORMAT] [default: text]
    log_format: LogFormat = "LVYUE_LOG_FORMAT";
    /// Log filter (tracing env-filter syntax, e.g. info or lvyue_node=debug)
    /// [env: LVYUE_LOG_LEVEL, else RUST_LOG] [default: info]
    log_level: String = "LVYUE_LOG_LEVEL";
}

fn env_value<T: std::str::FromStr>(
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match lookup(name) {
        Some(v) if !v.is_empty() => v.parse().map(Some).map_err(|e: T::Err| ConfigError::Env {
            name,
            value: v.clone(),
            detail: e.to_string(),
        }),
        _ => Ok(None),
    }
}

impl Default for Settings {
    fn default() -> Self {
        let seq = SequencerConfig::default();
        let server = ServerConfig::default();
        Settings {
            data: PathBuf::from(DEFAULT_DATA),
            listen: DEFAULT_LISTEN.into(),
            origin: DEFAULT_ORIGIN.into(),
            max_batch: seq.max_batch,
            max_wait_ms: u64::try_from(seq.max_wait.as_millis()).unwrap_or(u64::MAX),
            body_limit: server.body_limit,
            batch_body_limit: server.batch_body_limit,
            rate_per_key: server.rate_per_key,
            rate_burst: server.rate_burst,
            tick_interval_secs: seq.tick_interval.as_secs(),
            snapshot_every: seq.snapshot_every,
            log_format: LogFormat::Text,
            log_level: DEFAULT_LOG_LEVEL.into(),
        }
    }
}

impl Settings {
    /// Refuses values the node cannot run with.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let at_least_one = [
            ("max_batch", self.max_batch as u64),
            ("tick_interval_secs", self.tick_interval_secs),
            ("snapshot_every", self.snapshot_every),
            ("body_limit", self.body_limit as u64),
            ("batch_body_limit", self.batch_body_limit as u64),
        ];
        for (name, v) in at_least_one {
            if v == 0 {
                return Err(ConfigError::Invalid(format!(
                    "{name} 0: must be at least 1"
                )));
            }
        }
        if self.listen.is_empty() {
            return Err(ConfigError::Invalid("listen: empty address".into()));
        }
        Ok(())
    }

    /// The sequencer settings.
    #[must_use]
    pub fn sequencer(&self) -> SequencerConfig {
        SequencerConfig {
            max_batch: self.max_batch,
            max_wait: Duration::from_millis(self.max_wait_ms),
            tick_interval: Duration::from_secs(self.tick_interval_secs),
            snapshot_every: self.snapshot_every,
            ..SequencerConfig::default()
        }
    }

    /// The HTTP server settings. `..ServerConfig::default()` keeps this
    /// compiling when the server gains settings this file does not know yet.
    #[must_use]
    #[allow(clippy::needless_update)]
    pub fn server(&self) -> ServerConfig {
        ServerConfig {
            body_limit: self.body_limit,
            batch_body_limit: self.batch_body_limit,
            rate_per_key: self.rate_per_key,
            rate_burst: self.rate_burst,
            ..ServerConfig::default()
        }
    }

    /// What `init` needs on first run.
    #[must_use]
    pub fn init_options(&self) -> InitOptions {
        InitOptions {
            origin: self.origin.clone(),
            ..InitOptions::default()
        }
    }

    /// The logging settings.
    #[must_use]
    pub fn log(&self) -> LogSettings {
        LogSettings {
            format: self.log_format,
            level: self.log_level.clone(),
        }
    }

    /// The settings as TOML (what `serve --print-config` prints; a valid config file).
    #[must_use]
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot render settings: {e}\n"))
    }
}

/// Reads a TOML config file. A relative `data` path in it is taken relative
/// to the file's folder, so that a config file works from any directory.
pub fn read_file(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut layer: Layer = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        detail: e.to_string().trim_end().to_string(),
    })?;
    if let (Some(data), Some(dir)) = (&layer.data, path.parent()) {
        if data.is_relative() {
            layer.data = Some(dir.join(data));
        }
    }
    Ok(layer)
}

/// The settings `serve` runs with, and the config file they came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub settings: Settings,
    pub file: Option<PathBuf>,
}

/// Works out the settings from flags, the environment (through `lookup`)
/// and the config file: `--config`, else `LVYUE_CONFIG`, else
/// `DATA/lvyue.toml` if it exists (DATA from flags, environment or default).
pub fn load(
    flags: &Layer,
    config: Option<&Path>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, ConfigError> {
    let mut env = Layer::from_env(lookup)?;
    if env.log_level.is_none() {
        env.log_level = lookup("RUST_LOG").filter(|v| !v.is_empty());
    }
    let top = flags.clone().over(env);
    let explicit = config.map(Path::to_path_buf).or_else(|| {
        lookup(CONFIG_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let (file_layer, file) = match explicit {
        Some(path) => (read_file(&path)?, Some(path)),
        None => {
            let data = top.data.clone().unwrap_or_else(|| DEFAULT_DATA.into());
            let path = data.join(CONFIG_FILE_NAME);
            if path.is_file() {
                let layer = read_file(&path)?;
                if layer.data.is_some() {
                    return Err(ConfigError::Invalid(format!(
                        "config file {}: `data` cannot be set by the file inside the data folder; use --config elsewhere or --data",
                        path.display()
                    )));
                }
                (layer, Some(path))
            } else {
                (Layer::default(), None)
            }
        }
    };
    let settings = top.over(file_layer).resolve();
    settings.validate()?;
    Ok(Loaded { settings, file })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "node.toml",
            "max_batch = 10\nmax_wait_ms = 7\nrate_burst = 5\nlisten = \"0.0.0.0:9000\"\n",
        );
        let flags = Layer {
            max_batch: Some(30),
            ..Layer::default()
        };
        let lookup = env(&[("LVYUE_MAX_BATCH", "20"), ("LVYUE_MAX_WAIT_MS", "8")]);
        let got = load(&flags, Some(&file), &lookup).unwrap();
        let s = got.settings;
        assert_eq!(s.max_batch, 30, "flag over env and file");
        assert_eq!(s.max_wait_ms, 8, "env over file");
        assert_eq!(s.rate_burst, 5, "file over default");
        assert_eq!(s.listen, "0.0.0.0:9000");
        assert_eq!(s.rate_per_key, ServerConfig::default().rate_per_key);
        assert_eq!(got.file.as_deref(), Some(file.as_path()));

        // Without the flag, the environment wins; without both, the file.
        let s = load(&Layer::default(), Some(&file), &lookup)
            .unwrap()
            .settings;
        assert_eq!(s.max_batch, 20);
        let s = load(&Layer::default(), Some(&file), &env(&[]))
            .unwrap()
            .settings;
        assert_eq!(s.max_batch, 10);
    }

    #[test]
    fn config_file_defaults_to_data_folder_and_may_come_from_env() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), CONFIG_FILE_NAME, "snapshot_every = 99\n");
        let flags = Layer {
            data: Some(dir.path().to_path_buf()),
            ..Layer::default()
        };
        let got = load(&flags, None, &env(&[])).unwrap();
        assert_eq!(got.settings.snapshot_every, 99);
        assert_eq!(got.file, Some(dir.path().join(CONFIG_FILE_NAME)));

        let other = write(dir.path(), "other.toml", "snapshot_every = 77\n");
        let lookup = env(&[(CONFIG_ENV, other.to_str().unwrap())]);
        let got = load(&flags, None, &lookup).unwrap();
        assert_eq!(
            got.settings.snapshot_every, 77,
            "LVYUE_CONFIG replaces DATA/lvyue.toml"
        );

        // A folder without lvyue.toml: defaults.
        let empty = tempfile::tempdir().unwrap();
        let flags = Layer {
            data: Some(empty.path().to_path_buf()),
            ..Layer::default()
        };
        let got = load(&flags, None, &env(&[])).unwrap();
        assert_eq!(got.file, None);
        assert_eq!(got.settings.snapshot_every, 1_000_000);
    }

    #[test]
    fn relative_data_in_a_config_file_is_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "c.toml", "data = \"state\"\n");
        let s = load(&Layer::default(), Some(&file), &env(&[]))
            .unwrap()
            .settings;
        assert_eq!(s.data, dir.path().join("state"));
    }

    #[test]
    fn bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(
            &Layer::default(),
            None,
            &env(&[("LVYUE_MAX_BATCH", "many")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("LVYUE_MAX_BATCH=\"many\""), "{e}");

        let file = write(dir.path(), "c.toml", "max_bacth = 3\n");
        let e = load(&Layer::default(), Some(&file), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_bacth") && e.contains("c.toml"), "{e}");

        let e = load(
            &Layer::default(),
            None,
            &env(&[("LVYUE_LOG_FORMAT", "xml")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("want text or json"), "{e}");

        let flags = Layer {
            max_batch: Some(0),
            ..Layer::default()
        };
        let e = load(&flags, None, &env(&[])).unwrap_err().to_string();
        assert_eq!(e, "max_batch 0: must be at least 1");

        let file = write(dir.path(), CONFIG_FILE_NAME, "data = \"/elsewhere\"\n");
        let flags = Layer {
            data: Some(dir.path().to_path_buf()),
            ..Layer::default()
        };
        let e = load(&flags, None, &env(&[])).unwrap_err().to_string();
        assert!(
            e.contains(file.to_str().unwrap()) && e.contains("`data`"),
            "{e}"
        );
    }

    #[test]
    fn log_level_falls_back_to_rust_log() {
        let s = load(&Layer::default(), None, &env(&[("RUST_LOG", "debug")]))
            .unwrap()
            .settings;
        assert_eq!(s.log_level, "debug");
        let lookup = env(&[("RUST_LOG", "debug"), ("LVYUE_LOG_LEVEL", "warn")]);
        let s = load(&Layer::default(), None, &lookup).unwrap().settings;
        assert_eq!(s.log_level, "warn");
        let s = load(&Layer::default(), None, &env(&[])).unwrap().settings;
        assert_eq!(
            s.log(),
            LogSettings {
                format: LogFormat::Text,
                level: "info".into()
            }
        );
    }

    #[test]
    fn printed_settings_read_back_as_a_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings {
            max_batch: 3,
            log_format: LogFormat::Json,
            data: dir.path().join("d"),
            ..Settings::default()
        };
        let file = write(dir.path(), "p.toml", &s.to_toml());
        let back = load(&Layer::default(), Some(&file), &env(&[]))
            .unwrap()
            .settings;
        assert_eq!(back, s);
    }

    /// The help text and docs/OPERATIONS.md state each setting's default and
    /// environment variable; this keeps them true.
    #[test]
    fn help_and_docs_state_every_default_and_variable() {
        use clap::CommandFactory;
        #[derive(clap::Parser)]
        struct Probe {
            #[command(flatten)]
            layer: Layer,
        }
        let cmd = Probe::command();
        let defaults = toml::Table::try_from(Settings::default()).unwrap();
        let docs = include_str!("../../docs/OPERATIONS.md");
        for (name, var) in Layer::ENV {
            let arg = cmd
                .get_arguments()
                .find(|a| a.get_id() == *name)
                .unwrap_or_else(|| panic!("no flag for {name}"));
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            let value = match &defaults[*name] {
                toml::Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            assert!(help.contains(&format!("[env: {var}")), "{name}: {help}");
            assert!(
                help.contains(&format!("[default: {value}]")),
                "{name}: {help}"
            );
            let row = docs
                .lines()
                .find(|l| l.starts_with(&format!("| `{name}` ")))
                .unwrap_or_else(|| panic!("docs/OPERATIONS.md has no row for {name}"));
            assert!(row.contains(var) && row.contains(&value), "{row}");
        }
    }
}
