//! Per-user web pages over the userdirs of dccm and dccifd -U.
