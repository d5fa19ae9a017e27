//! The codes a case lists (parties, violation types, crime types), a row each, in the order
//! given. A row per code lets `ListCases` find the cases of one code through an index, in id
//! order, where a `,a,b,` text column could only be scanned with `LIKE`.

use docket_domain::UnknownCode;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    /// Which list: [`CodeList::code`].
    #[sea_orm(primary_key, auto_increment = false)]
    pub list: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub code: String,
}

impl ActiveModelBehavior for ActiveModel {}

/// The rows of list `list` of case `case_id`, in the order of `codes`.
pub fn rows(case_id: Uuid, list: CodeList, codes: &[String]) -> impl Iterator<Item = ActiveModel> {
    use sea_orm::ActiveValue::Set;
    codes
        .iter()
        .zip(0..)
        .map(move |(code, position)| ActiveModel {
            case_id: Set(case_id),
            list: Set(list.code().to_owned()),
            position: Set(position),
            code: Set(code.clone()),
        })
}

/// The lists of codes a case keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeList {
    /// The parties alleged responsible (`PartyCode`).
    Party,
    /// The kinds of violation (`ViolationType`'s codes).
    Violation,
    /// The crimes the case is qualified with (`CrimeTypeCode`).
    Crime,
}

impl CodeList {
    pub const ALL: [CodeList; 3] = [CodeList::Party, CodeList::Violation, CodeList::Crime];

    /// As stored in `case_codes.list`.
    pub fn code(self) -> &'static str {
        match self {
            CodeList::Party => "party",
            CodeList::Violation => "violation",
            CodeList::Crime => "crime",
        }
    }

    /// The list stored as `code`.
    pub fn from_code(code: &str) -> Result<Self, UnknownCode> {
        Self::ALL
            .into_iter()
            .find(|list| list.code() == code)
            .ok_or_else(|| UnknownCode {
                kind: "case code list",
                code: code.to_owned(),
            })
    }
}
