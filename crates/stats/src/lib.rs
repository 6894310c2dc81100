//! Daemon statistics: counters, Prometheus text, a history of samples and a graphs page.
