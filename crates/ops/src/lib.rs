//! Operations: dcc_conf, start-up command lines, daily maintenance.
