pub mod audit_heads;
