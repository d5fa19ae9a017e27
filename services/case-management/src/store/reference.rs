//! Cases and allegations found by their references (see `request::reference`).

use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, QuerySelect};

use super::CaseStore;
use crate::entity::{case, case_allegation};
use crate::error::CaseError;

impl CaseStore {
    /// The id of the case whose reference is `reference` (canonical form), if any.
    pub async fn case_by_reference(&self, reference: &str) -> Result<Option<Uuid>, CaseError> {
        Ok(case::Entity::find()
            .filter(case::Column::Reference.eq(reference))
            .select_only()
            .column(case::Column::Id)
            .into_tuple::<Uuid>()
            .one(&self.db)
            .await?)
    }

    /// The id of the delivered allegation whose reference is `reference` (canonical form), if
    /// case management holds it.
    pub async fn allegation_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<Uuid>, CaseError> {
        Ok(case_allegation::Entity::find()
            .filter(case_allegation::Column::Reference.eq(reference))
            .order_by_asc(case_allegation::Column::LinkedAt)
            .select_only()
            .column(case_allegation::Column::AllegationId)
            .into_tuple::<Uuid>()
            .one(&self.db)
            .await?)
    }
}
