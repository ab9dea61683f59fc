//! The async service layer: the only door to the store and the connectors.
