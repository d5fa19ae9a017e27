//! Releases: the only figures the public reads. A release is a fixed catalogue of tables
//! ([`catalogue`]) computed from the projections at recorded stream positions ([`tables`]),
//! protected as a whole and against every earlier release ([`protect`]), written as one
//! signed document ([`document`]) and stored for good ([`store`]). A published release is
//! recomputed on a live service from projections rebuilt at its positions ([`replay`]).

pub mod catalogue;
pub mod document;
pub mod gazetteer;
pub mod protect;
pub mod publication;
pub mod replay;
pub mod reproduce;
pub mod service;
pub mod store;
pub mod tables;
