//! Scenarios made in code: a [`Builder`] over the scenario's TOML table,
//! validated overrides by dotted key, and inline TOML.
//!
//! Everything here ends in the file loader: a builder writes its table as
//! TOML text and [`parse`]s it. So a scenario made in code
//! gets the same defaults, the same checks and the same error text as a
//! file, and `--vary` (which overrides through this module) gets them too.

use super::dotted::DottedKey;
use super::{Channel, Keygen, LoadError, Scenario, TraceLevel, Verify, defaults, parse};
use crate::protocol::InitKind;

/// What errors name for a scenario made by [`Scenario::builder`].
const BUILDER_ORIGIN: &str = "<builder>";
/// What errors name for a scenario read by [`Scenario::from_toml`].
const INLINE_ORIGIN: &str = "<inline>";

/// A scenario under construction: a TOML table, checked only by
/// [`Builder::build`], with the loader's checks.
///
/// [`Scenario::builder`] starts from the keys a file must have (`name`,
/// `group.params`, `protocol.members`, `init`, `keygen`, `epochs`), set to
/// [`defaults::BUILDER_NAME`] and the other `BUILDER_` values; every other
/// key keeps the reference's default ([`defaults`]).
///
/// ```
/// use fraclab::scenario::{Channel, Scenario};
/// let sc = Scenario::builder()
///     .members(5)
///     .channel(Channel::Sealed)
///     .set("network.loss", 0.1)?
///     .build()?;
/// assert_eq!((sc.members(), sc.channel(), sc.network().loss), (5, Channel::Sealed, 0.1));
///
/// let e = Scenario::builder().members(5000).build().unwrap_err();
/// assert_eq!(e.to_string(), "<builder>: protocol.members: 5000 is out of range; allowed: 2..=4096");
/// # Ok::<(), fraclab::scenario::LoadError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    table: toml::Table,
    origin: String,
    /// A seed beside the table: a seed is a u64 (`--seed`), TOML stops at
    /// i64::MAX.
    seed: Option<u64>,
    /// The first typed setter that could not be applied, for `build`.
    error: Option<LoadError>,
}

impl Scenario {
    /// A builder with the required keys set to the builder's defaults.
    pub fn builder() -> Builder {
        let mut b =
            Builder { table: toml::Table::new(), origin: BUILDER_ORIGIN.into(), seed: None, error: None };
        b.put("name", defaults::BUILDER_NAME.into());
        b.put("group.params", defaults::BUILDER_PARAMS.into());
        b.members(defaults::BUILDER_MEMBERS)
            .init(defaults::BUILDER_INIT)
            .keygen(defaults::BUILDER_KEYGEN)
            .epochs(defaults::BUILDER_EPOCHS)
    }

    /// A builder holding this scenario's settings, to change some.
    pub fn to_builder(&self) -> Builder {
        Builder { table: self.doc.clone(), origin: self.origin.clone(), seed: Some(self.seed), error: None }
    }

    /// Validates inline TOML text; errors name the file `<inline>`, at the
    /// text's own line:column. Keys left out get the reference's defaults.
    ///
    /// ```
    /// use fraclab::scenario::Scenario;
    /// let text = "name = \"t\"\n[group]\nparams = \"toy-64\"\n\
    ///             [protocol]\nmembers = 5\ninit = \"ring\"\nkeygen = \"additive\"\nepochs = 1\n";
    /// assert_eq!(Scenario::from_toml(text)?, Scenario::builder().name("t").members(5).build()?);
    /// let e = Scenario::from_toml(&text.replace("members = 5", "members = 1")).unwrap_err();
    /// assert_eq!(e.to_string(), "<inline>:5:11: protocol.members: 1 is out of range; allowed: 2..=4096");
    /// # Ok::<(), fraclab::scenario::LoadError>(())
    /// ```
    pub fn from_toml(text: &str) -> Result<Scenario, LoadError> {
        parse(text, INLINE_ORIGIN)
    }

    /// Sets the dotted `key` to `value` and validates the result as the
    /// loader would; on an error the scenario is unchanged. The error has
    /// the loader's key and message, without a line:column (see
    /// [`LoadError::Setting`]).
    ///
    /// ```
    /// use fraclab::scenario::Scenario;
    /// let text = "name = \"t\"\n[group]\nparams = \"toy-64\"\n\
    ///             [protocol]\nmembers = 4\ninit = \"ring\"\nkeygen = \"additive\"\nepochs = 1\n\
    ///             [[adversary]]\nkind = \"coalition\"\nmembers = [1, 3]\n";
    /// let mut sc = Scenario::from_toml(text)?;
    /// sc.set("network.loss", 0.25)?;
    /// assert_eq!(sc.network().loss, 0.25);
    /// let e = sc.set("protocol.members", 2).unwrap_err();
    /// assert_eq!(
    ///     e.to_string(),
    ///     "<inline>: adversary[0].members: members = 3 is not a member; allowed: 1..=2"
    /// );
    /// assert_eq!(sc.members(), 4);
    /// # Ok::<(), fraclab::scenario::LoadError>(())
    /// ```
    pub fn set(&mut self, key: &str, value: impl Into<toml::Value>) -> Result<(), LoadError> {
        *self = self.to_builder().set(key, value)?.build()?;
        Ok(())
    }

    /// Sets the seed (`--seed`). Every u64 is a valid seed, so nothing is
    /// checked again, and the source hash stays that of the source.
    pub fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
    }
}

impl Builder {
    /// Sets the dotted `key` (`network.loss`, `adversary.0.member`) to
    /// `value`. Tables on the way are created; array entries must exist.
    /// Only the path is checked here; the value is checked by
    /// [`Builder::build`].
    pub fn set(mut self, key: &str, value: impl Into<toml::Value>) -> Result<Builder, LoadError> {
        self.set_mut(key, value.into())?;
        Ok(self)
    }

    fn set_mut(&mut self, key: &str, value: toml::Value) -> Result<(), LoadError> {
        let setting =
            |message: String| LoadError::Setting { file: self.origin.clone(), key: key.to_string(), message };
        let path = DottedKey::parse(key).map_err(setting)?;
        let set = path.set_in(&mut self.table, value);
        set.map_err(setting)?;
        if key == "seed" {
            self.seed = None;
        }
        Ok(())
    }

    /// Validates the settings as the file loader does.
    pub fn build(self) -> Result<Scenario, LoadError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let unlocated = |e: LoadError| match e {
            LoadError::Invalid { file, key, message, .. } => LoadError::Setting { file, key, message },
            other => other,
        };
        let text = toml::to_string(&self.table).map_err(|e| LoadError::Setting {
            file: self.origin.clone(),
            key: "(file)".into(),
            message: format!("the settings do not make a TOML document: {e}"),
        })?;
        let mut sc = parse(&text, &self.origin).map_err(unlocated)?;
        if let Some(seed) = self.seed {
            sc.seed = seed;
        }
        Ok(sc)
    }

    /// A typed setter's `set`: the first error is kept for `build`.
    fn put(&mut self, key: &str, value: toml::Value) {
        if self.error.is_none() {
            self.error = self.set_mut(key, value).err();
        }
    }

    fn with(mut self, key: &str, value: toml::Value) -> Builder {
        self.put(key, value);
        self
    }

    /// `name`.
    pub fn name(self, name: &str) -> Builder {
        self.with("name", name.into())
    }
    /// `description`.
    pub fn description(self, text: &str) -> Builder {
        self.with("description", text.into())
    }
    /// `seed`: any u64.
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = Some(seed);
        self
    }
    /// `[group] params`, a name `fraclab params` lists.
    pub fn params(self, name: &str) -> Builder {
        self.with("group.params", name.into())
    }
    /// `[protocol] members`.
    pub fn members(self, n: u32) -> Builder {
        self.with("protocol.members", n.into())
    }
    /// `[protocol] init`.
    pub fn init(self, init: InitKind) -> Builder {
        self.with("protocol.init", init.as_str().into())
    }
    /// `[protocol] keygen`.
    pub fn keygen(self, keygen: Keygen) -> Builder {
        self.with("protocol.keygen", keygen.as_str().into())
    }
    /// `[protocol] epochs` (a value above i64::MAX is checked as i64::MAX).
    pub fn epochs(self, epochs: u64) -> Builder {
        self.with("protocol.epochs", saturating(epochs))
    }
    /// `[protocol] rekey_interval_ms`.
    pub fn rekey_interval_ms(self, ms: u64) -> Builder {
        self.with("protocol.rekey_interval_ms", saturating(ms))
    }
    /// `[protocol] round_timeout_ms`.
    pub fn round_timeout_ms(self, ms: u64) -> Builder {
        self.with("protocol.round_timeout_ms", saturating(ms))
    }
    /// `[protocol] verify`.
    pub fn verify(self, verify: Verify) -> Builder {
        self.with("protocol.verify", verify.as_str().into())
    }
    /// `[protocol] channel`.
    pub fn channel(self, channel: Channel) -> Builder {
        self.with("protocol.channel", channel.as_str().into())
    }
    /// `[output] trace`.
    pub fn trace(self, level: TraceLevel) -> Builder {
        self.with("output.trace", level.as_str().into())
    }
    /// `[output] analysis`.
    pub fn analysis(self, on: bool) -> Builder {
        self.with("output.analysis", on.into())
    }
}

/// A u64 as a TOML integer; past i64::MAX it is i64::MAX, which every
/// range check refuses as the out-of-range value it stands for.
fn saturating(v: u64) -> toml::Value {
    toml::Value::Integer(i64::try_from(v).unwrap_or(i64::MAX))
}
