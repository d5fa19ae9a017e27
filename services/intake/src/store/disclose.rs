//! Sealed source identities on the way out: opened for roles that may see them (and each such
//! read audited), redacted for everyone else.

use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::journal;
use docket_proto::docket::intake::v1 as pb;

use super::AllegationStore;
use crate::error::IntakeError;

/// The sealing context of a source field of allegation `id`: a sealed value only opens in the
/// row and field it was sealed for.
pub(super) fn context(id: &str, field: &str) -> String {
    format!("allegation/{id}/{field}")
}

impl AllegationStore {
    /// Opens or redacts every sealed identity in `messages` for the caller of `call`. Shows none
    /// in clear before the clear read is in the audit log. `audit_reads` is false where the
    /// call's own audit entry already names these allegations (a submission, a triage step).
    pub(super) async fn disclose(
        &self,
        call: &CallContext,
        messages: &mut [pb::Allegation],
        audit_reads: bool,
    ) -> Result<(), IntakeError> {
        let clear = call.sees_sealed_identities();
        let mut revealed = Vec::new();
        for message in messages.iter_mut() {
            let id = message.id.clone();
            let Some(source) = message.source.as_mut() else {
                continue;
            };
            if source.anonymous {
                continue;
            }
            if clear {
                source.name = self.open(&source.name, &context(&id, "source_name"))?;
                source.contact = self.open(&source.contact, &context(&id, "source_contact"))?;
                revealed.push(id);
            } else {
                source.name.clear();
                source.contact.clear();
                source.redacted = true;
            }
        }
        if audit_reads && !revealed.is_empty() {
            let txn = begin_write(&self.db).await?;
            journal::record(
                &txn,
                &AuditRecord::succeeded(call, "read sealed source identity", revealed),
                None,
            )
            .await?;
            txn.commit().await?;
        }
        Ok(())
    }

    pub(super) fn open(&self, sealed: &str, context: &str) -> Result<String, IntakeError> {
        if sealed.is_empty() {
            return Ok(String::new());
        }
        self.sealer.open(sealed, context).map_err(|error| {
            tracing::error!(%error, context, "a sealed identity does not open");
            IntakeError::Sealing(error)
        })
    }
}
