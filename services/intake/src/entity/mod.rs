//! sea-orm entities of the intake tables. Enumerations are stored as the domain's stable codes.

pub mod allegation;
pub mod content_assessment;
pub mod content_review_flag;
pub mod custody_event;
pub mod evidence;
pub mod perpetrator;
pub mod source_url;
pub mod victim_group;
pub mod violation_type;
