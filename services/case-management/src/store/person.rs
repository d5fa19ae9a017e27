//! Persons in cases. A person is registered once (`persons`) and stands in any number of cases
//! (`case_persons`), so the same suspect keeps one id across cases. A witness's identity is
//! sealed in the registry, and stays sealed in every case once they have been a witness in one.

use std::collections::HashMap;

use docket_domain::allegation::ContactDetails;
use docket_domain::case::{PersonName, PersonRole, PersonRoleDetails};
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::journal;
use docket_platform::paging::{Page, split_time_and_id, time_and_id};
use docket_proto::docket::cases::v1 as pb;
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, DatabaseTransaction, IntoActiveModel, QueryOrder, QuerySelect};

use super::change::ensure_not_closed;
use super::{CaseStore, etag_of, now};
use crate::entity::{case, case_person, person};
use crate::error::CaseError;

pub(crate) mod wire;

/// Who is added: someone new, or a person already registered (in another case, say).
#[derive(Debug, Clone)]
pub enum Identity {
    New {
        name: PersonName,
        contact: Option<ContactDetails>,
    },
    Existing(Uuid),
}

/// A valid `AddPerson` request.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub identity: Identity,
    pub details: PersonRoleDetails,
}

/// The sealing context of a field of person `id`: a sealed value opens only where it was sealed.
fn context(id: Uuid, field: &str) -> String {
    format!("person/{id}/{field}")
}

impl CaseStore {
    /// Adds a person to case `case_id`; returns them and the case's new etag.
    pub async fn add_person(
        &self,
        case_id: Uuid,
        etag: Option<&str>,
        new: NewPerson,
        call: &CallContext,
    ) -> Result<(pb::Person, String), CaseError> {
        let (_changing, txn) = self.begin_change().await?;
        let row = self.guard(&txn, case_id, etag).await?;
        ensure_not_closed(&row)?;
        let seal = new.details.role().seals_identity();
        let registered = match new.identity {
            Identity::Existing(id) => self.reuse(&txn, &row, id, seal).await?,
            Identity::New { name, contact } => {
                let id = Uuid::now_v7();
                let (name, contact) = if seal {
                    self.seal(
                        id,
                        name.as_str(),
                        contact.as_ref().map(ContactDetails::as_str),
                    )?
                } else {
                    (name.into_inner(), contact.map(|c| c.as_str().to_owned()))
                };
                person::Entity::insert(person::ActiveModel {
                    id: Set(id),
                    display_name: Set(name),
                    contact: Set(contact),
                    identity_sealed: Set(seal),
                    created_at: Set(now()),
                })
                .exec_with_returning(&txn)
                .await?
            }
        };
        let at = now();
        let mut link = case_person::ActiveModel {
            case_id: Set(case_id),
            person_id: Set(registered.id),
            added_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        };
        wire::set_details(&mut link, &new.details);
        let link = case_person::Entity::insert(link)
            .exec_with_returning(&txn)
            .await?;
        self.record_change(
            &txn,
            case_id,
            &AuditRecord::succeeded(
                call,
                "add person",
                vec![case_id.to_string(), registered.id.to_string()],
            ),
        )
        .await?;
        txn.commit().await?;
        self.committed();
        self.index_report(&link, &registered)?;
        let person = self.disclose(call, vec![(link, registered)], false).await?;
        let person = person.into_iter().next().ok_or_else(|| {
            CaseError::Unexpected(anyhow::anyhow!("the added person was not read back"))
        })?;
        Ok((person, etag_of(case_id, row.version + 1)))
    }

    /// The registered person `id`, sealed now if they become a witness.
    async fn reuse(
        &self,
        txn: &DatabaseTransaction,
        case: &case::Model,
        id: Uuid,
        seal: bool,
    ) -> Result<person::Model, CaseError> {
        let known = person::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| CaseError::Precondition(format!("no person has the id {id}")))?;
        if let Some(existing) = case_person::Entity::find_by_id((case.id, id))
            .one(txn)
            .await?
        {
            return Err(CaseError::Precondition(format!(
                "person {id} is already a {} in case {}; change their details with UpdatePerson",
                existing.role, case.reference
            )));
        }
        if !seal || known.identity_sealed {
            return Ok(known);
        }
        let (name, contact) = self.seal(id, &known.display_name, known.contact.as_deref())?;
        let mut sealed = known.into_active_model();
        sealed.display_name = Set(name);
        sealed.contact = Set(contact);
        sealed.identity_sealed = Set(true);
        Ok(sealed.update(txn).await?)
    }

    pub(super) fn seal(
        &self,
        id: Uuid,
        name: &str,
        contact: Option<&str>,
    ) -> Result<(String, Option<String>), CaseError> {
        let name = self
            .sealer
            .seal(name, &context(id, "display_name"))
            .map_err(CaseError::Sealing)?;
        let contact = contact
            .map(|c| self.sealer.seal(c, &context(id, "contact")))
            .transpose()
            .map_err(CaseError::Sealing)?;
        Ok((name, contact))
    }

    /// Replaces the role details of person `person_id` in case `case_id`. The role stays.
    pub async fn update_person(
        &self,
        case_id: Uuid,
        etag: Option<&str>,
        person_id: Uuid,
        details: PersonRoleDetails,
        call: &CallContext,
    ) -> Result<(pb::Person, String), CaseError> {
        let (_changing, txn) = self.begin_change().await?;
        let row = self.guard(&txn, case_id, etag).await?;
        ensure_not_closed(&row)?;
        let link = case_person::Entity::find_by_id((case_id, person_id))
            .one(&txn)
            .await?
            .ok_or(CaseError::PersonNotFound {
                case: case_id,
                person: person_id,
            })?;
        if link.role != details.role().code() {
            return Err(CaseError::Precondition(format!(
                "person {person_id} is a {} in this case; a role does not change",
                link.role
            )));
        }
        let mut active = link.into_active_model();
        wire::set_details(&mut active, &details);
        active.updated_at = Set(now());
        let link = active.update(&txn).await?;
        let registered = person::Entity::find_by_id(person_id)
            .one(&txn)
            .await?
            .ok_or(CaseError::PersonNotFound {
                case: case_id,
                person: person_id,
            })?;
        self.record_change(
            &txn,
            case_id,
            &AuditRecord::succeeded(
                call,
                "update person",
                vec![case_id.to_string(), person_id.to_string()],
            ),
        )
        .await?;
        txn.commit().await?;
        self.committed();
        self.index_report(&link, &registered)?;
        let person = self.disclose(call, vec![(link, registered)], false).await?;
        let person = person.into_iter().next().ok_or_else(|| {
            CaseError::Unexpected(anyhow::anyhow!("the person was not read back"))
        })?;
        Ok((person, etag_of(case_id, row.version + 1)))
    }

    /// One page of the persons of case `case_id`, optionally only those in `role`, in the order
    /// added, and the next page's token.
    pub async fn persons(
        &self,
        case_id: Uuid,
        role: Option<PersonRole>,
        page: &Page,
        call: &CallContext,
    ) -> Result<(Vec<pb::Person>, String), CaseError> {
        case::Entity::find_by_id(case_id)
            .one(&self.db)
            .await?
            .ok_or(CaseError::CaseNotFound(case_id))?;
        let mut select =
            case_person::Entity::find().filter(case_person::Column::CaseId.eq(case_id));
        if let Some(role) = role {
            select = select.filter(case_person::Column::Role.eq(role.code()));
        }
        if let Some((at, id)) = page.after.as_deref().and_then(split_time_and_id) {
            let at = DateTimeUtc::from_timestamp_micros(at).unwrap_or_default();
            select = select.filter(
                Condition::any()
                    .add(case_person::Column::AddedAt.gt(at))
                    .add(
                        Condition::all()
                            .add(case_person::Column::AddedAt.eq(at))
                            .add(case_person::Column::PersonId.gt(id)),
                    ),
            );
        }
        let mut links = select
            .order_by_asc(case_person::Column::AddedAt)
            .order_by_asc(case_person::Column::PersonId)
            .limit(page.limit())
            .all(&self.db)
            .await?;
        let token = page.finish(&mut links, |link| {
            time_and_id(link.added_at.timestamp_micros(), &link.person_id)
        });
        let ids: Vec<Uuid> = links.iter().map(|l| l.person_id).collect();
        let mut registry: HashMap<Uuid, person::Model> = person::Entity::find()
            .filter(person::Column::Id.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let pairs = links
            .into_iter()
            .filter_map(|link| registry.remove(&link.person_id).map(|p| (link, p)))
            .collect();
        Ok((self.disclose(call, pairs, true).await?, token))
    }

    /// Wire persons, with sealed identities opened for roles that may see them (each clear read
    /// audited before it is answered, unless the call's own entry names the person) and
    /// redacted for every other role.
    async fn disclose(
        &self,
        call: &CallContext,
        pairs: Vec<(case_person::Model, person::Model)>,
        audit_reads: bool,
    ) -> Result<Vec<pb::Person>, CaseError> {
        let clear = call.sees_sealed_identities();
        let mut revealed = Vec::new();
        let mut out = Vec::with_capacity(pairs.len());
        for (link, registered) in pairs {
            let (name, contact, redacted) = match (registered.identity_sealed, clear) {
                (false, _) => (registered.display_name, registered.contact, false),
                (true, false) => (String::new(), None, true),
                (true, true) => {
                    revealed.push(registered.id.to_string());
                    (
                        self.open_sealed(registered.id, "display_name", &registered.display_name)?,
                        registered
                            .contact
                            .as_deref()
                            .map(|c| self.open_sealed(registered.id, "contact", c))
                            .transpose()?,
                        false,
                    )
                }
            };
            let register_id = self.register.entry_of(link.person_id);
            out.push(wire::person(link, name, contact, redacted, register_id)?);
        }
        if audit_reads && !revealed.is_empty() {
            let txn = begin_write(&self.db).await?;
            journal::record(
                &txn,
                &AuditRecord::succeeded(call, "read sealed witness identity", revealed),
                None,
            )
            .await?;
            txn.commit().await?;
        }
        Ok(out)
    }

    pub(super) fn open_sealed(
        &self,
        id: Uuid,
        field: &str,
        sealed: &str,
    ) -> Result<String, CaseError> {
        self.sealer
            .open(sealed, &context(id, field))
            .map_err(|error| {
                tracing::error!(%error, %id, field, "a sealed identity does not open");
                CaseError::Sealing(error)
            })
    }
}
