//! `dcc-web`: per-user web pages over the userdirs of dccm and dccifd.
//! See the `opts` module for the command line and docs/web.md for the
//! set-up behind an HTTPS reverse proxy.

use std::sync::Arc;
use tally_web::server::{serve, App};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match tally_web::opts::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dcc-web: {e}");
            std::process::exit(1);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dcc-web: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let code = rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(opts.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("dcc-web: cannot listen on {}: {e}", opts.listen);
                return 1;
            }
        };
        match listener.local_addr() {
            Ok(a) => println!("dcc-web listening on {a}"),
            Err(e) => eprintln!("dcc-web: {e}"),
        }
        if !opts.userdirs.is_dir() {
            eprintln!(
                "dcc-web: userdirs {} is not a directory",
                opts.userdirs.display()
            );
        }
        let app = Arc::new(App::new(opts));
        let bg = app.clone();
        tokio::task::spawn_blocking(move || bg.listings.index_all(&bg.opts.userdirs));
        if let Err(e) = serve(app, listener).await {
            eprintln!("dcc-web: {e}");
            return 1;
        }
        0
    });
    std::process::exit(code);
}
