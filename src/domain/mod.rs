//! The domain: the board's types, the validation of every input, the write rules, and the
//! one service through which every write passes.

pub mod activity;
pub mod agent;
pub mod board;
pub mod boards;
pub mod cards;
pub mod change;
pub mod coordination;
pub mod graph;
pub mod input;
pub mod invites;
pub mod notifications;
pub mod patterns;
pub mod storage;
pub mod task;
pub mod transfer;
pub mod waiting;
pub mod webhooks;
pub mod write;
