//! Local profiles on this computer, with their keychain side: "keep me signed in" keeps its
//! session secret in the OS keychain (never on disk), and deleting a profile removes its
//! keychain entries and files. The rules themselves are in `inkstone_core::{profiles, sign_in}`.

use std::path::{Path, PathBuf};

use inkstone_core::profile_export::{self, ProfileExport};
use inkstone_core::profiles::{self, DeletedProfile, Profile};
use inkstone_core::sign_in;
use inkstone_domain::ProfileId;
use inkstone_keychain::SecretName;

use crate::{DesktopError, DesktopResult, Services};

impl Services {
    /// Signs in; with `remember`, this computer signs the profile in at the next start until
    /// it signs out. A keychain that cannot keep the secret only costs the remembering.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        remember: bool,
    ) -> DesktopResult<Profile> {
        let profile = profiles::sign_in(&self.db, username, password, self.now()).await?;
        self.forget_remembered().await;
        if remember {
            self.remember(profile.id).await?;
        }
        Ok(profile)
    }

    /// Creates a profile (the first one on this computer is its owner) and signs it in.
    pub async fn register(
        &self,
        username: &str,
        password: &str,
        remember: bool,
    ) -> DesktopResult<Profile> {
        let profile = profiles::register(&self.db, username, password, self.now()).await?;
        // A deleted profile's id can come back; its keychain entry must not.
        if let Err(error) = self.secrets.delete(&SecretName::AccountToken {
            profile_id: profile.id,
        }) {
            tracing::warn!(%error, "could not clear a stale payment token");
        }
        self.forget_remembered().await;
        if remember {
            self.remember(profile.id).await?;
        }
        Ok(profile)
    }

    async fn remember(&self, profile_id: ProfileId) -> DesktopResult<()> {
        let secret = sign_in::remember(&self.db, profile_id, self.now()).await?;
        if let Err(error) = self.secrets.set(&SecretName::SignedIn, &secret) {
            // No secret in the keychain: the row could never be used, so it goes too.
            sign_in::forget(&self.db, &secret).await?;
            tracing::warn!(%error, "the keychain cannot keep the session; not remembered");
        }
        Ok(())
    }

    /// Forgets the session this computer remembers, in the keychain and the database.
    async fn forget_remembered(&self) {
        match self.secrets.get(&SecretName::SignedIn) {
            Ok(Some(secret)) => {
                if let Err(error) = sign_in::forget(&self.db, &secret).await {
                    tracing::warn!(%error, "could not forget the remembered session");
                }
            }
            Ok(None) => return,
            Err(error) => tracing::warn!(%error, "keychain unavailable"),
        }
        if let Err(error) = self.secrets.delete(&SecretName::SignedIn) {
            tracing::warn!(%error, "could not remove the remembered session");
        }
    }

    /// The profile this computer keeps signed in, if any and still valid. A secret that no
    /// longer signs anyone in is removed from the keychain.
    pub async fn remembered_profile(&self) -> DesktopResult<Option<Profile>> {
        let secret = match self.secrets.get(&SecretName::SignedIn) {
            Ok(Some(secret)) => secret,
            Ok(None) => return Ok(None),
            Err(error) => {
                tracing::warn!(%error, "keychain unavailable: nobody is kept signed in");
                return Ok(None);
            }
        };
        let profile = sign_in::resume(&self.db, &secret).await?;
        if profile.is_none() {
            let _ = self.secrets.delete(&SecretName::SignedIn);
        }
        Ok(profile)
    }

    /// Signing out: this computer no longer signs anyone in by itself.
    /// A profile by id (the signed-in one's name and role for the header).
    pub async fn profile(&self, profile_id: ProfileId) -> DesktopResult<Profile> {
        Ok(profiles::get_profile(&self.db, profile_id).await?)
    }

    /// False on a fresh data folder: the welcome page creates the first profile.
    pub async fn has_profiles(&self) -> DesktopResult<bool> {
        Ok(profiles::any_profile(&self.db).await?)
    }

    pub async fn sign_out(&self) {
        self.forget_remembered().await;
    }

    /// Changes the password. Every remembered session of the profile ends; if this computer
    /// kept it signed in, it does again with a new secret.
    pub async fn change_password(
        &self,
        profile_id: ProfileId,
        current: &str,
        new: &str,
    ) -> DesktopResult<()> {
        let kept = matches!(self.remembered_profile().await, Ok(Some(p)) if p.id == profile_id);
        profiles::change_password(&self.db, profile_id, current, new, self.now()).await?;
        if kept {
            let _ = self.secrets.delete(&SecretName::SignedIn);
            self.remember(profile_id).await?;
        }
        Ok(())
    }

    /// Deletes a profile (typed name and password checked in core), then what it had outside
    /// the database: its payment token and remembered session in the keychain, and the files
    /// of its history under the data folder.
    pub async fn delete_profile(
        &self,
        profile_id: ProfileId,
        password: &str,
        confirmation: &str,
    ) -> DesktopResult<DeletedProfile> {
        let remembered = self.remembered_profile().await.ok().flatten();
        let deleted =
            profiles::delete_profile(&self.db, profile_id, password, confirmation, self.now())
                .await?;
        if remembered.is_some_and(|p| p.id == profile_id) {
            let _ = self.secrets.delete(&SecretName::SignedIn);
        }
        self.secrets
            .delete(&SecretName::AccountToken { profile_id })?;
        let files_root = self.options.data_dir.join("files");
        for file in &deleted.files {
            remove_inside(&files_root, Path::new(file));
        }
        Ok(deleted)
    }

    /// Writes the profile's history (Markdown), ledger (CSV) and a copy of its files into a new
    /// folder under `<data dir>/exports/` and returns that folder.
    pub async fn export_profile(&self, profile_id: ProfileId) -> DesktopResult<PathBuf> {
        let me = profiles::get_profile(&self.db, profile_id).await?;
        let export = profile_export::export_profile(&self.db, profile_id).await?;
        let exports = self.options.data_dir.join("exports");
        let files_root = self.options.data_dir.join("files");
        let stem = format!(
            "inkstone-profile-{}-{}",
            me.id,
            self.now().format("%Y%m%d-%H%M%S")
        );
        tokio::task::spawn_blocking(move || write_export(&exports, &files_root, &stem, &export))
            .await
            .map_err(|_| DesktopError::Export("the export was interrupted"))?
            .map_err(|error| {
                // The path and the OS error stay in the log.
                tracing::error!(%error, "cannot write the profile export");
                DesktopError::Export("cannot write to the exports folder")
            })
    }
}

/// Removes `file` only when it lies inside `root` (a path from the database is not trusted to
/// point anywhere else).
fn remove_inside(root: &Path, file: &Path) {
    let (Ok(root), Ok(file)) = (root.canonicalize(), file.canonicalize()) else {
        return;
    };
    if file.starts_with(&root) && file.is_file() {
        if let Err(error) = std::fs::remove_file(&file) {
            tracing::warn!(%error, "a deleted profile's file stays");
        }
    }
}

/// A fresh folder (never an earlier export's) with `history.md`, `ledger.csv` and `files/`.
fn write_export(
    exports: &Path,
    files_root: &Path,
    stem: &str,
    export: &ProfileExport,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(exports)?;
    let mut folder = exports.join(stem);
    let mut n = 1;
    loop {
        match std::fs::create_dir(&folder) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => {
                n += 1;
                folder = exports.join(format!("{stem}-{n}"));
            }
            Err(e) => return Err(e),
        }
    }
    std::fs::write(folder.join("history.md"), &export.markdown)?;
    std::fs::write(folder.join("ledger.csv"), &export.ledger_csv)?;
    let root = files_root.canonicalize().ok();
    let copies = folder.join("files");
    for file in &export.files {
        let Ok(source) = Path::new(file).canonicalize() else {
            continue;
        };
        // Only the app's own files are copied, whatever a stored path says.
        if !root.as_ref().is_some_and(|r| source.starts_with(r)) {
            continue;
        }
        if let Some(name) = source.file_name() {
            std::fs::create_dir_all(&copies)?;
            std::fs::copy(&source, copies.join(name))?;
        }
    }
    Ok(folder)
}
