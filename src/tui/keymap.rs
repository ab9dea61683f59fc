//! Keys as data: each context maps keys to an action with a description
//! (assets/keymap.toml, then the user's keymap.toml, whose entries win).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use super::action::Action;

const DEFAULTS: &str = include_str!("../../assets/keymap.toml");

/// Where a binding applies. `Global` keys work in every pane unless the pane
/// binds the same key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Context {
    Global,
    Connectors,
    Groups,
    Members,
    Person,
    Activities,
    Queries,
    External,
    Picker,
    Wizard,
    Checker,
    Input,
    Menu,
    /// Issue 11: the keys that act on accounts, left out in read-only mode.
    Act,
    Apps,
    /// Issue 12.
    Alerts,
    Policies,
    PolicyEditor,
}

impl Context {
    pub const ALL: [Context; 18] = [
        Context::Global,
        Context::Connectors,
        Context::Groups,
        Context::Members,
        Context::Person,
        Context::Act,
        Context::Activities,
        Context::Queries,
        Context::External,
        Context::Apps,
        Context::Alerts,
        Context::Policies,
        Context::PolicyEditor,
        Context::Picker,
        Context::Wizard,
        Context::Checker,
        Context::Input,
        Context::Menu,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Connectors => "Connectors",
            Context::Groups => "Groups",
            Context::Members => "Members",
            Context::Person => "Person view",
            Context::Activities => "Activities",
            Context::Queries => "Queries list (Q in Activities)",
            Context::External => "External groups",
            Context::Picker => "Import picker (other keys type)",
            Context::Wizard => "Connect wizard (other keys type)",
            Context::Checker => "Access checker (other keys type)",
            Context::Input => "Text input (other keys type)",
            Context::Menu => "A menu (its letters choose)",
            Context::Act => {
                "Acting on accounts (Members, person view, Apps; off in read-only mode)"
            }
            Context::Apps => "Apps",
            Context::Alerts => "Alerts",
            Context::Policies => "Policies (p in Alerts)",
            Context::PolicyEditor => "Policy editor (other keys type)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    /// The key as the keymap spells it; shift is part of the character itself.
    pub fn from_event(e: KeyEvent) -> Key {
        let mut mods =
            e.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match e.code {
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                // Terminals report ctrl-letter in either case.
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.insert(KeyModifiers::SHIFT);
                KeyCode::Tab
            }
            other => other,
        };
        Key { code, mods }
    }

    pub fn parse(spec: &str) -> Result<Key, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = spec;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-").filter(|r| !r.is_empty()) {
                mods |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-").filter(|r| !r.is_empty()) {
                mods |= KeyModifiers::ALT;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("shift-").filter(|r| !r.is_empty()) {
                mods |= KeyModifiers::SHIFT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            f if f.len() > 1 && f.starts_with('f') => match f[1..].parse::<u8>() {
                Ok(n @ 1..=12) => KeyCode::F(n),
                _ => return Err(format!("unknown key {spec:?}")),
            },
            single => {
                let mut chars = single.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) {
                        c.to_ascii_lowercase()
                    } else {
                        c
                    }),
                    _ => return Err(format!("unknown key {spec:?}")),
                }
            }
        };
        if matches!(code, KeyCode::Char(_)) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Ok(Key { code, mods })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            _ => f.write_str("?"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub action: Action,
    pub desc: String,
}

#[derive(Debug, Clone, Default)]
pub struct Keymap {
    bindings: HashMap<Context, Vec<Binding>>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    #[error("cannot read the keymap {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the keymap {path} is not valid: {message}; fix or remove it")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    on: Vec<String>,
    run: String,
    desc: Option<String>,
}

impl Keymap {
    pub fn defaults() -> Keymap {
        Keymap::parse(DEFAULTS).expect("assets/keymap.toml is valid (checked by a test)")
    }

    /// The defaults with the user's file on top, if it exists.
    pub fn load(user: Option<&Path>) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::defaults();
        let Some(path) = user else { return Ok(map) };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(map),
            Err(source) => {
                return Err(KeymapError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let user = Keymap::parse(&text).map_err(|message| KeymapError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        for (context, mut bindings) in user.bindings {
            let list = map.bindings.entry(context).or_default();
            // The user's keys take those keys away from the defaults.
            for b in &bindings {
                for d in list.iter_mut() {
                    d.keys.retain(|k| !b.keys.contains(k));
                }
            }
            list.retain(|d| !d.keys.is_empty());
            bindings.append(list);
            *list = bindings;
        }
        Ok(map)
    }

    /// The user's keymap file: `keymap.toml` in casbah's config folder.
    pub fn user_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "casbah").map(|d| d.config_dir().join("keymap.toml"))
    }

    pub fn parse(text: &str) -> Result<Keymap, String> {
        let raw: HashMap<Context, Vec<Entry>> =
            toml::from_str(text).map_err(|e| e.message().to_owned())?;
        let mut bindings = HashMap::new();
        for (context, entries) in raw {
            let mut list = Vec::new();
            for e in entries {
                let action = Action::from_name(&e.run)
                    .ok_or_else(|| format!("unknown action {:?}", e.run))?;
                let keys =
                    e.on.iter()
                        .map(|s| Key::parse(s))
                        .collect::<Result<Vec<Key>, String>>()?;
                let desc = e.desc.unwrap_or_else(|| action.description().to_owned());
                list.push(Binding { keys, action, desc });
            }
            bindings.insert(context, list);
        }
        Ok(Keymap { bindings })
    }

    pub fn bindings(&self, context: Context) -> &[Binding] {
        self.bindings
            .get(&context)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The action for a key, looking in `contexts` in order.
    pub fn action(&self, contexts: &[Context], key: KeyEvent) -> Option<Action> {
        let key = Key::from_event(key);
        contexts
            .iter()
            .flat_map(|c| self.bindings(*c))
            .find(|b| b.keys.contains(&key))
            .map(|b| b.action)
    }

    /// The first key bound to `action` in `contexts`, for hints.
    pub fn key_for(&self, contexts: &[Context], action: Action) -> Option<Key> {
        contexts
            .iter()
            .flat_map(|c| self.bindings(*c))
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn defaults_parse_and_bind_the_documented_keys() {
        let map = Keymap::defaults();
        let g = [Context::Global];
        assert_eq!(
            map.action(&g, key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&g, key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&g, key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevPane)
        );
        assert_eq!(
            map.action(&g, key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action(&g, key(KeyCode::Char('L'), KeyModifiers::CONTROL)),
            Some(Action::Redraw)
        );
        let groups = [Context::Groups, Context::Global];
        assert_eq!(
            map.action(&groups, key(KeyCode::Char('i'), KeyModifiers::NONE)),
            Some(Action::Import)
        );
    }

    // R-X5: the External groups keys, and no key of a pane that means
    // something else everywhere (a pane may only rebind a key to the same action).
    #[test]
    fn external_keys_do_not_clash() {
        let map = Keymap::defaults();
        let ext = [Context::External, Context::Global];
        let none = KeyModifiers::NONE;
        for (c, action) in [
            ('5', Action::External),
            ('a', Action::AccessCheck),
            ('w', Action::WhoCanSee),
            ('r', Action::Refresh),
            ('l', Action::Expand),
            ('h', Action::Collapse),
            ('/', Action::Filter),
            ('j', Action::Down),
        ] {
            assert_eq!(map.action(&ext, key(KeyCode::Char(c), none)), Some(action));
        }
        for ctx in Context::ALL {
            let mut seen: HashMap<Key, Action> = HashMap::new();
            for b in map.bindings(ctx) {
                for k in &b.keys {
                    if let Some(other) = seen.insert(*k, b.action) {
                        panic!(
                            "{k} is bound twice in {ctx:?}: {other:?} and {:?}",
                            b.action
                        );
                    }
                }
            }
        }
        for b in map.bindings(Context::External) {
            for k in &b.keys {
                let global = map
                    .bindings(Context::Global)
                    .iter()
                    .find(|g| g.keys.contains(k))
                    .map(|g| g.action);
                assert!(
                    global.is_none_or(|g| g == b.action),
                    "{k} means {global:?} everywhere but {:?} in External groups",
                    b.action
                );
            }
        }
    }

    #[test]
    fn user_entries_win_over_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keymap.toml");
        std::fs::write(
            &path,
            "[[global]]\non = [\"q\"]\nrun = \"help\"\n[[global]]\non = [\"x\"]\nrun = \"quit\"\n",
        )
        .expect("write");
        let map = Keymap::load(Some(&path)).expect("valid");
        let g = [Context::Global];
        assert_eq!(
            map.action(&g, key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Help)
        );
        assert_eq!(
            map.action(&g, key(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&g, key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn a_bad_user_file_says_where_and_what() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keymap.toml");
        std::fs::write(&path, "[[global]]\non = [\"q\"]\nrun = \"explode\"\n").expect("write");
        let err = Keymap::load(Some(&path))
            .expect_err("unknown action")
            .to_string();
        assert!(
            err.contains("explode") && err.contains("keymap.toml"),
            "{err}"
        );
        assert!(Key::parse("ctrl-").is_err() && Key::parse("f13").is_err());
    }

    #[test]
    fn missing_user_file_means_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(Keymap::load(Some(&dir.path().join("none.toml"))).is_ok());
    }
}
