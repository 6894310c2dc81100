//! Whole-message driver.
