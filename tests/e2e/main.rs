//! End-to-end scenarios: the services over real gRPC on loopback, on SQLite and, when
//! `DOCKET_TEST_DATABASE_URL` is set, on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed expectation is a failed test

mod access;
mod answers;
mod at_rest;
mod audit;
mod audit_timestamps;
mod bad_input;
mod cases;
mod content_credentials;
mod corrections;
mod custody;
mod dead_letters;
mod delivery;
mod events;
mod evidence;
mod flag_race;
mod flood;
mod head_timestamps;
mod hosting;
mod leases;
mod lifecycles;
mod outage;
mod receipts;
mod references;
mod registration;
mod releases;
mod repair;
mod reporting;
mod s3;
mod sealing;
mod search;
mod similar;
mod streams;
mod submission;
mod timestamps;
mod tls;
mod tokens;
mod triage;
mod uploads;
mod verdicts;
